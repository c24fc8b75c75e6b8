#pragma once
// A tiny HTTP/1.1 server (Boost.Beast) for operators: GET /metrics in the
// Prometheus text format and GET /healthz. One request per connection
// read with a deadline, bounded request size.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <memory>
#include <string>

namespace warren::core {

class AdminServer {
 public:
  using Render = std::function<std::string()>;

  /// Binds at once; throws boost::system::system_error if the address is taken.
  AdminServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& at, Render metrics);
  ~AdminServer();
  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void stop();

 private:
  void accept();

  boost::asio::ip::tcp::acceptor acceptor_;
  Render metrics_;
};

}  // namespace warren::core

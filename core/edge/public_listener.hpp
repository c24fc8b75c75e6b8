#pragma once
// A tunnel's public TCP port at the edge: accepts clients and hands each
// to the server to forward.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <string>

namespace warren::core {

class PublicListener : public std::enable_shared_from_this<PublicListener> {
 public:
  using OnClient = std::function<void(boost::asio::ip::tcp::socket)>;

  /// Binds at once; throws boost::system::system_error (e.g. address in use).
  PublicListener(boost::asio::any_io_executor executor, const boost::asio::ip::tcp::endpoint& at, OnClient on_client);
  void start();
  void close();
  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

 private:
  void accept();

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  OnClient on_client_;
};

}  // namespace warren::core

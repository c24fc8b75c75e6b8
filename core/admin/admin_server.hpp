#pragma once
// A tiny HTTP/1.1 server (Boost.Beast) for operators, shared by the edge and
// the connector: each GET path maps to a function that renders its answer
// (status, content type, body) when asked. One request per connection, read
// with a deadline, bounded request size.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace warren::core {

struct AdminResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

/// "2026-11-30T21:40:03.125Z": times in /status documents.
std::string utc_text(std::chrono::system_clock::time_point t);

/// The Prometheus text exposition format's content type.
inline constexpr const char* kPrometheusText = "text/plain; version=0.0.4";

class AdminServer {
 public:
  using Route = std::function<AdminResponse()>;
  using Routes = std::map<std::string, Route>;  ///< exact path -> renderer
  using Render = std::function<std::string()>;

  /// Binds at once; throws boost::system::system_error if the address is taken.
  /// Without a "/" route, "/" lists the routes' paths (text/plain).
  AdminServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& at, Routes routes);
  /// The edge's pair: /metrics (Prometheus text from `metrics`) and /healthz.
  AdminServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& at, Render metrics);
  ~AdminServer();
  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void stop();

 private:
  void accept();

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;  ///< a failed accept (out of descriptors) waits on it
  std::shared_ptr<const Routes> routes_;  ///< shared with requests in flight
};

}  // namespace warren::core

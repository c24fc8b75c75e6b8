#pragma once
// A tunnel's public TCP port at the edge: accepts clients and hands each
// to the server to forward.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>
#include <string>

namespace warren::core {

/// A client just accepted, with both ends of its connection (from accept()
/// itself and the listener's address: no getpeername/getsockname per client).
struct AcceptedClient {
  boost::asio::ip::tcp::socket socket;
  boost::asio::ip::tcp::endpoint peer;
  boost::asio::ip::tcp::endpoint local;
};

class PublicListener : public std::enable_shared_from_this<PublicListener> {
 public:
  using OnClient = std::function<void(AcceptedClient)>;

  /// Binds at once; throws boost::system::system_error (e.g. address in use).
  PublicListener(boost::asio::any_io_executor executor, const boost::asio::ip::tcp::endpoint& at, OnClient on_client);
  void start();
  void close();
  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

 private:
  void accept();
  void hand_over(boost::asio::ip::tcp::socket client);

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  OnClient on_client_;
  boost::asio::ip::tcp::endpoint bound_;  ///< the listener's address; unspecified: each client's is asked
  boost::asio::ip::tcp::endpoint peer_;   ///< filled by the pending async_accept
};

}  // namespace warren::core

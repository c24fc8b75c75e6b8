#include "core/edge/public_listener.hpp"

namespace warren::core {

using boost::asio::ip::tcp;

PublicListener::PublicListener(boost::asio::any_io_executor executor, const tcp::endpoint& at, OnClient on_client)
    : acceptor_(executor), retry_(executor), on_client_(std::move(on_client)) {
  acceptor_.open(at.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  // Linux copies TCP_NODELAY to every accepted socket: one setsockopt here
  // instead of one per client.
  acceptor_.set_option(tcp::no_delay(true));
  acceptor_.bind(at);
  // The kernel caps the backlog at net.core.somaxconn (4096 here): a burst
  // of connects waits there while refusals are decided, instead of SYN drops.
  acceptor_.listen(tcp::acceptor::max_listen_connections);
  bound_ = acceptor_.local_endpoint();
}

void PublicListener::start() { accept(); }

void PublicListener::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  retry_.cancel();
}

void PublicListener::accept() {
  acceptor_.async_accept(peer_, [self = shared_from_this()](boost::system::error_code ec, tcp::socket client) {
    if (ec == boost::asio::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (!ec) {
      // No accept loop of our own: the next async_accept tries accept() at
      // once (asio's speculative attempt), so a backlog drains anyway, and
      // a lone client costs no extra EAGAIN (measured: bench/CONNECTIONS.md).
      self->hand_over(std::move(client));
      return self->accept();
    }
    // EMFILE and friends: pause briefly rather than spin or give up the port.
    self->retry_.expires_after(std::chrono::milliseconds(100));
    self->retry_.async_wait([self](boost::system::error_code) {
      if (self->acceptor_.is_open()) self->accept();
    });
  });
}

void PublicListener::hand_over(tcp::socket client) {
  tcp::endpoint local = bound_;
  if (local.address().is_unspecified()) {
    boost::system::error_code ec;
    local = client.local_endpoint(ec);
    if (ec) return;  // gone already; the socket closes here
  }
  on_client_(AcceptedClient{std::move(client), peer_, local});
}

}  // namespace warren::core

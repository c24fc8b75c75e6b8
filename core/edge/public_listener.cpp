#include "core/edge/public_listener.hpp"

namespace warren::core {

using boost::asio::ip::tcp;

PublicListener::PublicListener(boost::asio::any_io_executor executor, const tcp::endpoint& at, OnClient on_client)
    : acceptor_(executor), retry_(executor), on_client_(std::move(on_client)) {
  acceptor_.open(at.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(at);
  // The kernel caps the backlog at net.core.somaxconn (4096 here): a burst
  // of connects waits there while refusals are decided, instead of SYN drops.
  acceptor_.listen(tcp::acceptor::max_listen_connections);
}

void PublicListener::start() { accept(); }

void PublicListener::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  retry_.cancel();
}

void PublicListener::accept() {
  acceptor_.async_accept([self = shared_from_this()](boost::system::error_code ec, tcp::socket client) {
    if (ec == boost::asio::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (ec) {
      // EMFILE and friends: pause briefly rather than spin or give up the port.
      self->retry_.expires_after(std::chrono::milliseconds(100));
      self->retry_.async_wait([self](boost::system::error_code) { self->accept(); });
      return;
    }
    client.set_option(tcp::no_delay(true), ec);
    self->on_client_(std::move(client));
    self->accept();
  });
}

}  // namespace warren::core

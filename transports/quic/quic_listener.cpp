#include "quic_listener.hpp"

#include "completion.hpp"
#include "connection_handle.hpp"

#include <deque>
#include <unordered_map>

namespace warren::quic {
namespace {

// Bounds the work a flood of Initial packets can cause: connections in
// their handshake, and finished ones the application has not taken yet.
constexpr std::size_t max_handshakes = 1024;
constexpr std::size_t max_ready = 1024;

}  // namespace

/// Shared with the endpoint's acceptor and the handshake callbacks, which
/// hold it weakly: a closed listener simply stops hearing from them.
class AcceptQueue : public std::enable_shared_from_this<AcceptQueue> {
 public:
  AcceptQueue(std::shared_ptr<UdpEndpoint> endpoint, std::shared_ptr<ServerCredentials> credentials,
              const ConnectionLimits& limits, sdk::Logger& logger)
      : executor_(endpoint->get_executor()),
        endpoint_(std::move(endpoint)),
        credentials_(std::move(credentials)),
        limits_(limits),
        logger_(logger) {}

  std::shared_ptr<PacketSink> accept(const udp::endpoint& from, const std::uint8_t* data, std::size_t len);
  void on_handshake(QuicConnection* key, const std::weak_ptr<QuicConnection>& weak, const sdk::error_code& ec);
  void async_accept(sdk::ConnectionHandler handler);
  void close();

 private:
  boost::asio::any_io_executor executor_;
  std::shared_ptr<UdpEndpoint> endpoint_;
  std::shared_ptr<ServerCredentials> credentials_;
  ConnectionLimits limits_;
  sdk::Logger& logger_;
  std::unordered_map<QuicConnection*, std::weak_ptr<QuicConnection>> handshaking_;
  std::deque<QuicConnection::Ptr> ready_;
  sdk::ConnectionHandler waiting_;
  bool closed_ = false;
};

std::shared_ptr<PacketSink> AcceptQueue::accept(const udp::endpoint& from, const std::uint8_t* data, std::size_t len) {
  if (closed_) return nullptr;
  ngtcp2_pkt_hd header;
  if (ngtcp2_accept(&header, data, len) != 0) return nullptr;  // not a client's first Initial
  if (handshaking_.size() >= max_handshakes || ready_.size() >= max_ready) return nullptr;
  std::string why;
  auto connection = QuicConnection::accept(endpoint_, from, header, credentials_, limits_, logger_, why);
  if (!connection) {
    logger_.warn("cannot accept a QUIC connection from " + from.address().to_string() + ": " + why);
    return nullptr;
  }
  QuicConnection* key = connection.get();
  handshaking_.emplace(key, connection);
  connection->start([weak_queue = weak_from_this(), key, weak = std::weak_ptr(connection)](const sdk::error_code& ec) {
    if (auto queue = weak_queue.lock()) queue->on_handshake(key, weak, ec);
  });
  return connection;
}

void AcceptQueue::on_handshake(QuicConnection* key, const std::weak_ptr<QuicConnection>& weak,
                               const sdk::error_code& ec) {
  handshaking_.erase(key);
  auto connection = weak.lock();
  if (ec || !connection) {
    logger_.debug("QUIC handshake failed: " + ec.message());
    return;
  }
  if (closed_) return;
  if (waiting_) {
    complete_if_pending(executor_, waiting_, sdk::error_code(),
                        sdk::ConnectionPtr(std::make_unique<ConnectionHandle>(std::move(connection))));
  } else {
    ready_.push_back(std::move(connection));
  }
}

void AcceptQueue::async_accept(sdk::ConnectionHandler handler) {
  const auto& executor = executor_;
  if (!ready_.empty()) {
    sdk::ConnectionPtr connection = std::make_unique<ConnectionHandle>(std::move(ready_.front()));
    ready_.pop_front();
    complete_later(executor, std::move(handler), sdk::error_code(), std::move(connection));
  } else if (closed_) {
    complete_later(executor, std::move(handler), boost::asio::error::operation_aborted, sdk::ConnectionPtr());
  } else if (waiting_) {
    complete_later(executor, std::move(handler), boost::asio::error::in_progress, sdk::ConnectionPtr());
  } else {
    store_handler(waiting_, std::move(handler));
  }
}

void AcceptQueue::close() {
  if (closed_) return;
  closed_ = true;
  endpoint_->set_acceptor(nullptr);
  for (auto& [key, weak] : handshaking_)
    if (auto connection = weak.lock()) connection->close(boost::asio::error::operation_aborted);
  handshaking_.clear();
  for (auto& connection : ready_) connection->close(boost::asio::error::operation_aborted);
  ready_.clear();
  complete_if_pending(executor_, waiting_, boost::asio::error::operation_aborted, sdk::ConnectionPtr());
  // Accepted connections keep the socket; with none left, the port is free.
  endpoint_.reset();
}

QuicListener::QuicListener(std::shared_ptr<UdpEndpoint> endpoint, std::shared_ptr<ServerCredentials> credentials,
                           const ConnectionLimits& limits, sdk::Logger& logger)
    : queue_(std::make_shared<AcceptQueue>(endpoint, std::move(credentials), limits, logger)),
      port_(endpoint->local_endpoint().port()) {
  endpoint->set_acceptor([weak = std::weak_ptr(queue_)](const udp::endpoint& from, const std::uint8_t* data,
                                                        std::size_t len) -> std::shared_ptr<PacketSink> {
    auto queue = weak.lock();
    return queue ? queue->accept(from, data, len) : nullptr;
  });
  endpoint->start();
}

QuicListener::~QuicListener() { close(); }

void QuicListener::close() { queue_->close(); }

void QuicListener::async_accept_impl(sdk::ConnectionHandler handler) { queue_->async_accept(std::move(handler)); }

}  // namespace warren::quic

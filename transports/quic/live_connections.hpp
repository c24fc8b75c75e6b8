#pragma once
// Asio destroys the handlers of its own pending operations when their
// io_context shuts down. A QuicConnection keeps its users' handlers itself
// (a stream's read or write, an accept, a datagram receive), and such a
// handler often owns the stream that owns the connection: an io_context
// destroyed with the connection open (`warren edge` or `warren connect`
// stopping with a leg's control stream still reading) leaked that cycle with
// its UdpEndpoint — a socket and 512 KiB of receive slots (LeakSanitizer at
// the exit of the sanitized suite's edges and connectors). This service,
// one per io_context, drops those handlers at shutdown, as Asio does.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>

#include <unordered_set>

namespace warren::quic {

class QuicConnection;

class LiveConnections final : public boost::asio::execution_context::service {
 public:
  static inline boost::asio::execution_context::id id;
  explicit LiveConnections(boost::asio::execution_context& context) : service(context) {}

  /// The service of `executor`'s io_context, created on first use.
  static LiveConnections& of(const boost::asio::any_io_executor& executor);

  /// Called by the connection's constructor and destructor (one thread: the loop's).
  void add(QuicConnection* connection) { live_.insert(connection); }
  void remove(QuicConnection* connection) { live_.erase(connection); }

 private:
  /// Drops every live connection's stored handlers, unrun. A handler's
  /// destruction may end its connection, which then leaves the set: the set
  /// is copied first.
  void shutdown() override;

  std::unordered_set<QuicConnection*> live_;
};

}  // namespace warren::quic

#pragma once
// The edge's accepting side of one UDP socket: judges every client's first
// Initial (HandshakeGuard), answers with a stateless Retry or drops it, or
// starts a handshake; hands finished handshakes to async_accept.
//
// Shared with the endpoint's acceptor and the handshake callbacks, which
// hold it weakly: a closed listener simply stops hearing from them.

#include "address_validation.hpp"
#include "defence_log.hpp"
#include "handshake_guard.hpp"
#include "quic_connection.hpp"
#include "reset_limiter.hpp"
#include "stateless_reset.hpp"

#include <deque>
#include <functional>
#include <memory>
#include <unordered_map>

namespace warren::quic {

/// What the defences did, for sdk::Listener::stats().
struct AcceptCounters {
  std::uint64_t invalid_tokens = 0;    ///< Initials with a Retry token that was not ours, stale or for another address
  std::uint64_t retry_bytes = 0;       ///< bytes of Retry and INVALID_TOKEN replies
  std::uint64_t handshakes_completed = 0;
  std::uint64_t handshakes_failed = 0;
  std::uint64_t ready_full = 0;        ///< finished handshakes dropped: the application took none of max_ready
  /// Traffic with addresses never validated (no Retry token, handshake not
  /// complete): the anti-amplification limit says sent <= 3 x received.
  std::uint64_t unvalidated_received = 0;
  std::uint64_t unvalidated_sent = 0;
  /// Short-header datagrams for no connection we know, answered with a
  /// stateless reset or not (ResetLimiter said no).
  std::uint64_t resets_sent = 0;
  std::uint64_t resets_limited = 0;
  std::uint64_t reset_bytes = 0;
  /// Tokenless Initials the guard wanted a Retry for, dropped instead: their
  /// source (or everyone) had used its Retry budget (retry_limits).
  std::uint64_t retries_limited = 0;
};

/// Retry packets under a flood, per source and in total. A client needs
/// one Retry per connection it starts (a connector's legs, a NAT's clients),
/// so a source that sends a few Initials always gets its answer; a source
/// that sends them by the thousand (or a spoofer, which never uses the token)
/// has the rest dropped before any crypto or send. 65,536 slots: a quiet
/// source shares both its slots with flooders only when tens of thousands
/// of sources flood at once.
inline constexpr ResetLimits retry_limits{.per_source_burst = 8,
                                          .per_source_per_second = 2,
                                          .total_burst = 2000,
                                          .total_per_second = 10000,
                                          .slots = 65536};

class AcceptQueue : public std::enable_shared_from_this<AcceptQueue> {
 public:
  AcceptQueue(std::shared_ptr<UdpEndpoint> endpoint, std::shared_ptr<ServerCredentials> credentials,
              StatelessReset::Ptr reset, const ConnectionLimits& limits, const HandshakeLimits& handshake_limits,
              sdk::Logger& logger);
  /// False if the Retry secret could not be drawn.
  bool init() { return validator_.init(); }

  /// The endpoint's acceptor: a connection for `data`, or null to drop it.
  std::shared_ptr<PacketSink> accept(const udp::endpoint& from, const std::uint8_t* data, std::size_t len);
  void async_accept(sdk::ConnectionHandler handler);
  void close();
  /// Handshakes from now on use `credentials`; running ones keep theirs.
  void replace_credentials(std::shared_ptr<ServerCredentials> credentials) { credentials_ = std::move(credentials); }

  const HandshakeGuard& guard() const { return guard_; }
  const AcceptCounters& counters() const { return counters_; }
  /// counters() with the traffic of unvalidated handshakes still running.
  AcceptCounters counters_now() const;
  std::size_t ready() const { return ready_.size(); }
  std::uint64_t unrouted_shed() const { return endpoint_ ? endpoint_->unrouted_shed() : shed_at_close_; }

 private:
  struct Pending {
    std::weak_ptr<QuicConnection> connection;
    boost::asio::ip::address source;
    bool validated;
  };
  void on_handshake(QuicConnection* key, const sdk::error_code& ec);
  void reply(const udp::endpoint& to, const std::uint8_t* packet, std::size_t len);
  /// Answers a short-header datagram for an unknown connection ID with a
  /// stateless reset, within ResetLimiter's budget.
  void send_reset(const udp::endpoint& to, const std::uint8_t* data, std::size_t len, ngtcp2_tstamp now);
  /// Counts a firing of `defence`; when its log line is due, writes it with
  /// `detail()` (only then built: a flood fires defences 20,000 times a second).
  void note(const char* defence, const std::function<std::string()>& detail, std::chrono::nanoseconds now,
            std::uint64_t count = 1);

  boost::asio::any_io_executor executor_;
  std::shared_ptr<UdpEndpoint> endpoint_;
  std::shared_ptr<ServerCredentials> credentials_;
  StatelessReset::Ptr reset_;
  ResetLimiter reset_limiter_;
  ResetLimiter retry_limiter_{retry_limits};
  ConnectionLimits limits_;
  sdk::Logger& logger_;
  HandshakeGuard guard_;
  AddressValidator validator_;
  DefenceLog defence_log_;
  AcceptCounters counters_;
  std::uint64_t shed_seen_ = 0;
  std::uint64_t shed_at_close_ = 0;
  std::unordered_map<QuicConnection*, Pending> handshaking_;
  std::deque<QuicConnection::Ptr> ready_;
  sdk::ConnectionHandler waiting_;
  bool closed_ = false;
};

}  // namespace warren::quic

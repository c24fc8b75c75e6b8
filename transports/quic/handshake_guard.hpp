#pragma once
// Decides what the edge does with a client's first Initial packet before it
// spends anything on it: start a handshake, answer with a stateless Retry
// (RFC 9000 §8.1.2), or drop it. Sans-io: time comes in as `now`, the
// verdict goes out; the listener (quic_listener.cpp) acts on it.
//
// Why: a handshake costs a TLS key exchange, ~3.6 KB sent and state held
// for the handshake timeout, all for a source address nobody has checked.
// So state before authentication is
//   - cheap: above a rate of new Initials or a number of unvalidated
//     handshakes, sources must first prove their address with a Retry
//     token, which costs the edge no state at all;
//   - bounded: a global cap on handshakes in progress and one per source;
//   - never shared with the legitimate: unvalidated handshakes may hold at
//     most `retry_above_pending` of the `max_handshakes` slots (in "auto"
//     and "always" mode), so a validated connector always finds room.

#include <boost/asio/ip/address.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace warren::quic {

enum class RetryMode {
  automatic,  ///< Retry once the edge looks flooded (the default)
  always,     ///< every tokenless Initial gets a Retry: one more round trip, no unvalidated state ever
  never,      ///< no Retry: unvalidated handshakes are bounded by the caps only
};

struct HandshakeLimits {
  RetryMode retry = RetryMode::automatic;
  /// New tokenless Initials per second above which "auto" sends Retry
  /// (libp2p validates addresses above 1,000/s).
  std::uint64_t retry_above_rate = 1000;
  /// Unvalidated handshakes in progress at which "auto" sends Retry.
  std::size_t retry_above_pending = 64;
  /// Handshakes in progress, validated or not, across all sources.
  std::size_t max_handshakes = 1024;
  /// Handshakes in progress from one source (an IPv4 address or an IPv6 /64).
  std::size_t max_handshakes_per_source = 8;
};

/// What to do with one Initial. The names are stable: metrics label by them.
enum class InitialVerdict {
  accept,      ///< start a handshake (the guard now counts it as pending)
  retry,       ///< answer with a Retry packet and forget it
  global_cap,  ///< drop: max_handshakes in progress
  source_cap,  ///< drop: max_handshakes_per_source from this source
};
const char* verdict_name(InitialVerdict verdict);

/// A source as the caps see it: an IPv4 address, or the /64 an IPv6 host
/// can pick addresses from freely.
struct SourceKey {
  std::array<std::uint8_t, 9> bytes{};  ///< [0] = family, then the address or prefix
  static SourceKey of(const boost::asio::ip::address& address);
  friend bool operator==(const SourceKey&, const SourceKey&) = default;
};
struct SourceKeyHash {
  std::size_t operator()(const SourceKey& key) const noexcept;
};

/// Events per second over a sliding one-second window (two fixed windows,
/// the older one weighted by how much of it the sliding window still covers).
class RateEstimator {
 public:
  explicit RateEstimator(std::chrono::nanoseconds window = std::chrono::seconds(1)) : window_(window) {}
  void add(std::chrono::nanoseconds now);
  double per_second(std::chrono::nanoseconds now) const;

 private:
  void advance(std::chrono::nanoseconds now);
  std::chrono::nanoseconds window_;
  std::chrono::nanoseconds start_{0};  ///< start of the current fixed window
  double current_ = 0;
  double previous_ = 0;
};

struct HandshakeCounters {
  std::uint64_t initials = 0;   ///< client first Initials judged
  std::uint64_t accepted = 0;
  std::uint64_t retried = 0;
  std::uint64_t global_cap = 0;
  std::uint64_t source_cap = 0;
};

class HandshakeGuard {
 public:
  explicit HandshakeGuard(const HandshakeLimits& limits) : limits_(limits) {}

  /// Judges a client's first Initial from `source`; `validated` when it
  /// carried a valid Retry token. On `accept` the handshake counts as
  /// pending until handshake_ended() is called for it, exactly once.
  InitialVerdict on_initial(const boost::asio::ip::address& source, bool validated, std::chrono::nanoseconds now);
  /// A handshake accepted above finished, either way.
  void handshake_ended(const boost::asio::ip::address& source, bool validated);

  std::size_t pending() const { return pending_; }
  std::size_t pending_unvalidated() const { return pending_unvalidated_; }
  /// Sources with a handshake in progress (the per-source table's size).
  std::size_t sources() const { return per_source_.size(); }
  double initial_rate(std::chrono::nanoseconds now) const { return rate_.per_second(now); }
  const HandshakeCounters& counters() const { return counters_; }
  const HandshakeLimits& limits() const { return limits_; }

 private:
  bool wants_retry(std::size_t from_source, std::chrono::nanoseconds now) const;

  HandshakeLimits limits_;
  RateEstimator rate_;
  std::size_t pending_ = 0;
  std::size_t pending_unvalidated_ = 0;
  std::unordered_map<SourceKey, std::size_t, SourceKeyHash> per_source_;  ///< only sources with one pending
  HandshakeCounters counters_;
};

}  // namespace warren::quic

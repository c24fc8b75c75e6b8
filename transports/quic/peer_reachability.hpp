#pragma once
// Decides when ICMP "unreachable" reports about a connection's peer mean the
// peer is gone (its process died and the host answers "port unreachable"),
// so a leg learns in a few round trips what its idle or heartbeat timeout
// would take seconds to tell.
//
// Before the handshake completes, one report ends a dial at once: nothing
// listens there, and a forged report costs the dialer only a retry, as with
// a connected UDP socket's ECONNREFUSED (which is how Chromium's QUIC sees it).
//
// After it, ICMP errors are soft evidence (RFC 8085 §5.2, RFC 5927): anyone
// who knows the 4-tuple can forge one, and a live connection is worth more.
// So a report alone changes nothing. The peer is declared unreachable only when
//   - at least `min_reports` reports arrived,
//   - after the first one we sent the peer a datagram (a live peer would
//     have answered it: QUIC acknowledges within max_ack_delay, part of PTO),
//   - and nothing at all came from the peer for `quiet(pto)` after that send.
// Any datagram from the peer clears the evidence. A forged report therefore
// costs a live peer nothing but one more answered packet.
//
// Sans-io: time is ngtcp2_tstamp (ns) passed in; no clock, no socket.

#include <ngtcp2/ngtcp2.h>

#include <algorithm>
#include <cstdint>
#include <optional>

namespace warren::quic {

class PeerReachability {
 public:
  /// Reports needed; two, so one stray ICMP (a late error for an old path)
  /// is never enough.
  static constexpr std::uint32_t min_reports = 2;
  /// The least silence that convicts: a busy peer host may answer a few
  /// hundred milliseconds late without being dead.
  static constexpr ngtcp2_duration min_quiet = 200'000'000;  // 200 ms

  /// Silence that convicts, given the connection's probe timeout: three PTOs
  /// (RFC 9002 §6.2: a PTO already includes the peer's max_ack_delay).
  static ngtcp2_duration quiet(ngtcp2_duration pto) { return std::max<ngtcp2_duration>(3 * pto, min_quiet); }

  /// An ICMP error naming the peer's address arrived.
  void on_report() { ++reports_; }
  /// We sent the peer a datagram at `now`.
  void on_sent(ngtcp2_tstamp now) {
    if (reports_ > 0 && !probe_sent_) probe_sent_ = now;
  }
  /// A datagram came from the peer: it is alive.
  void on_received() {
    reports_ = 0;
    probe_sent_.reset();
  }

  /// When an established connection's unreachable() may next turn true;
  /// nullopt while nothing is pending.
  std::optional<ngtcp2_tstamp> deadline(ngtcp2_duration pto) const {
    if (reports_ == 0 || !probe_sent_) return std::nullopt;
    return *probe_sent_ + quiet(pto);
  }
  /// True when the peer is gone: for a connection still in its handshake,
  /// after any report; for an established one, by the rules above.
  bool unreachable(ngtcp2_tstamp now, ngtcp2_duration pto, bool established) const {
    if (!established) return reports_ > 0;
    auto due = deadline(pto);
    return reports_ >= min_reports && due && now >= *due;
  }
  std::uint32_t reports() const { return reports_; }

 private:
  std::uint32_t reports_ = 0;
  std::optional<ngtcp2_tstamp> probe_sent_;  ///< first send after the first report
};

}  // namespace warren::quic

#pragma once
// How many stateless resets the edge may send, per source and in total.
// A reset is always smaller than the packet it answers (no amplification),
// but anyone can send packets with random connection IDs and spoofed
// sources: this bounds what that costs the edge and whoever is spoofed.
//
// Token buckets: one per source (an IPv4 address or an IPv6 /64, as the
// handshake caps see it) in a fixed table of slots picked by hash, so memory
// never grows with the number of sources (two sources sharing a slot share
// its budget, which only errs on the side of fewer resets); and one for all.
//
// Sans-io: time comes in as `now`; no clock, no socket.

#include "handshake_guard.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>

namespace warren::quic {

struct ResetLimits {
  /// Resets one source may get in a burst: a connector's legs (up to
  /// protocol::kMaxLegs) share its address and each needs one.
  double per_source_burst = 8;
  double per_source_per_second = 4;
  double total_burst = 200;
  double total_per_second = 1000;
};

class ResetLimiter {
 public:
  static constexpr std::size_t slots = 4096;

  explicit ResetLimiter(ResetLimits limits = {}) : limits_(limits), total_{limits.total_burst, {}} {}

  /// True if a reset to `source` may go out now; spends its tokens.
  bool allow(const boost::asio::ip::address& source, std::chrono::nanoseconds now) {
    Bucket& slot = slots_[SourceKeyHash{}(SourceKey::of(source)) % slots];
    if (!slot.used) slot = {limits_.per_source_burst, now, true};
    refill(slot, limits_.per_source_burst, limits_.per_source_per_second, now);
    refill(total_, limits_.total_burst, limits_.total_per_second, now);
    if (slot.tokens < 1 || total_.tokens < 1) return false;
    slot.tokens -= 1;
    total_.tokens -= 1;
    return true;
  }

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::nanoseconds at{};
    bool used = false;
  };
  static void refill(Bucket& b, double burst, double per_second, std::chrono::nanoseconds now) {
    if (now > b.at) {
      b.tokens = std::min(burst, b.tokens + per_second * std::chrono::duration<double>(now - b.at).count());
      b.at = now;
    }
  }

  ResetLimits limits_;
  Bucket total_;
  std::array<Bucket, slots> slots_{};
};

}  // namespace warren::quic

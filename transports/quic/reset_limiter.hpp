#pragma once
// How many stateless replies the edge may send, per source and in total:
// stateless resets (a packet for a connection it does not know) and Retry
// packets (a new client while the edge looks flooded). Each such reply
// costs the edge crypto and a send, and anyone can make it send them with
// spoofed sources: this bounds what that costs the edge and whoever is
// spoofed, and keeps the replies for sources that send few packets.
//
// Token buckets: one per source (an IPv4 address or an IPv6 /64, as the
// handshake caps see it) in a fixed table of slots picked by a salted hash,
// so memory never grows with the number of sources; and one for all. A
// source has two slots and may send while either has a token (and spends
// from both): a flooder that shares one slot with a quiet source does not
// starve it, and a lone source gets exactly its burst and rate.
//
// Sans-io: time comes in as `now`; no clock, no socket.

#include "handshake_guard.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace warren::quic {

struct ResetLimits {
  /// Replies one source may get in a burst: a connector's legs (up to
  /// protocol::kMaxLegs) share its address and each may need one.
  double per_source_burst = 8;
  double per_source_per_second = 4;
  double total_burst = 200;
  double total_per_second = 1000;
  /// Slots of the per-source table (24 bytes each).
  std::size_t slots = 4096;
  /// The hash's salt; 0 draws one per limiter, so which sources share
  /// slots cannot be planned from outside (tests fix it).
  std::uint64_t salt = 0;
};

class ResetLimiter {
 public:
  explicit ResetLimiter(ResetLimits limits = {})
      : limits_(limits), total_{limits.total_burst, {}, true}, slots_(std::max<std::size_t>(limits.slots, 2)),
        salt_(limits.salt ? limits.salt
                          : (static_cast<std::uint64_t>(std::random_device{}()) << 32) | std::random_device{}()) {}

  /// True if a reply to `source` may go out now; spends its tokens.
  bool allow(const boost::asio::ip::address& source, std::chrono::nanoseconds now) {
    std::uint64_t h = mix(SourceKeyHash{}(SourceKey::of(source)) ^ salt_);
    Bucket& first = slot(h % slots_.size(), now);
    Bucket& second = slot(mix(h) % slots_.size(), now);
    refill(total_, limits_.total_burst, limits_.total_per_second, now);
    if ((first.tokens < 1 && second.tokens < 1) || total_.tokens < 1) return false;
    if (first.tokens >= 1) first.tokens -= 1;
    if (&second != &first && second.tokens >= 1) second.tokens -= 1;
    total_.tokens -= 1;
    return true;
  }

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::nanoseconds at{};
    bool used = false;
  };
  static std::uint64_t mix(std::uint64_t z) {  // SplitMix64's finaliser
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  Bucket& slot(std::size_t index, std::chrono::nanoseconds now) {
    Bucket& b = slots_[index];
    if (!b.used) b = {limits_.per_source_burst, now, true};
    refill(b, limits_.per_source_burst, limits_.per_source_per_second, now);
    return b;
  }
  static void refill(Bucket& b, double burst, double per_second, std::chrono::nanoseconds now) {
    if (now > b.at) {
      b.tokens = std::min(burst, b.tokens + per_second * std::chrono::duration<double>(now - b.at).count());
      b.at = now;
    }
  }

  ResetLimits limits_;
  Bucket total_;
  std::vector<Bucket> slots_;
  std::uint64_t salt_;
};

}  // namespace warren::quic

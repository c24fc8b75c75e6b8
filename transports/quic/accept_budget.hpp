#pragma once
// How much of the loop's time new clients may take: datagrams for no known
// connection (Initials) are handed to the acceptor only while it has spent
// (in CPU time, measured per call) less than `share` of the wall-clock time
// (refilled continuously: a token bucket of nanoseconds). The rest is dropped unread,
// so under a flood of Initials the established connections keep the
// remaining time and their packets are not lost in an overflowing socket
// buffer. Sans-io: the caller passes `now` and the CPU time each call took.

#include <algorithm>
#include <chrono>

namespace warren::quic {

class AcceptBudget {
 public:
  /// `share` of wall time (0..1], `burst`: how much unused time may be saved up.
  explicit AcceptBudget(double share = 0.5, std::chrono::nanoseconds burst = std::chrono::milliseconds(50))
      : share_(share), burst_(burst), balance_(burst) {}

  /// May the acceptor take the next datagram at `now`?
  bool allows(std::chrono::nanoseconds now) {
    refill(now);
    return balance_.count() > 0;
  }
  /// The acceptor spent `spent` on one datagram.
  void charge(std::chrono::nanoseconds spent) { balance_ -= spent; }

 private:
  void refill(std::chrono::nanoseconds now) {
    if (now > last_) {
      auto earned =
          std::chrono::nanoseconds(static_cast<long long>(static_cast<double>((now - last_).count()) * share_));
      balance_ = std::min(burst_, balance_ + earned);
      last_ = now;
    }
  }
  double share_;
  std::chrono::nanoseconds burst_;
  std::chrono::nanoseconds balance_;
  std::chrono::nanoseconds last_{0};
};

}  // namespace warren::quic

#pragma once
// When a connection that moves no bytes has been idle too long. Sans-io:
// callers report activity and ask with the `now` they read; the answer is
// "expired" or the time to ask again. Timers are armed lazily (one wake-up
// per timeout, not one per byte), so the hot path only stores a time.

#include <warren/sdk/time.hpp>

#include <optional>

namespace warren::core {

class IdleDeadline {
 public:
  /// `timeout` <= 0 turns the deadline off: check() never expires.
  IdleDeadline(sdk::Duration timeout, sdk::TimePoint now) : timeout_(timeout), last_activity_(now) {}

  bool enabled() const { return timeout_ > sdk::Duration::zero(); }
  /// Bytes moved at `now` (in either direction).
  void activity(sdk::TimePoint now) { last_activity_ = now; }
  /// nullopt: idle for the whole timeout, end the connection. Otherwise the
  /// time at which to check again (never earlier than `now`).
  std::optional<sdk::TimePoint> check(sdk::TimePoint now) const {
    if (!enabled()) return sdk::TimePoint::max();
    auto due = last_activity_ + timeout_;
    if (now >= due) return std::nullopt;
    return due;
  }

 private:
  sdk::Duration timeout_;
  sdk::TimePoint last_activity_;
};

}  // namespace warren::core

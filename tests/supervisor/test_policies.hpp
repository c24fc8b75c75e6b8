#pragma once
// Backoff policies for the supervisor tests, written here so the tests do
// not depend on the backoff plugin. Both record what they returned, so
// the tests can hold the supervisor's delays against the policy's.

#include <warren/sdk/policy.hpp>

#include <algorithm>
#include <cmath>
#include <deque>
#include <optional>

namespace warren::core::supervisor::test {

/// The same delay every time; gives up after `give_up_after` consecutive
/// failures when set.
class FixedBackoff final : public sdk::BackoffPolicy {
 public:
  explicit FixedBackoff(sdk::Duration delay, std::optional<std::uint32_t> give_up_after = std::nullopt)
      : delay_(delay), give_up_after_(give_up_after) {}
  void on_connected(sdk::BackoffState& state, sdk::TimePoint) const override { state.failures = 0; }
  std::optional<sdk::Duration> next_delay(sdk::BackoffState& state, sdk::TimePoint, sdk::RandomSource&) const override {
    ++state.failures;
    if (give_up_after_ && state.failures > *give_up_after_) return std::nullopt;
    state.last_delay = delay_;
    return delay_;
  }
  sdk::Duration max_delay() const override { return delay_; }

 private:
  sdk::Duration delay_;
  std::optional<std::uint32_t> give_up_after_;
};

/// Exponential with full jitter and a cap; the failure count resets once a
/// connection has stayed up for `reset_after`. Gives up after `max_failures`
/// (0: never).
class ExponentialBackoff final : public sdk::BackoffPolicy {
 public:
  ExponentialBackoff(sdk::Duration base, sdk::Duration cap, sdk::Duration reset_after, std::uint32_t max_failures)
      : base_(base), cap_(cap), reset_after_(reset_after), max_failures_(max_failures) {}

  void on_connected(sdk::BackoffState& state, sdk::TimePoint now) const override { state.connected_since = now; }

  std::optional<sdk::Duration> next_delay(sdk::BackoffState& state, sdk::TimePoint now,
                                          sdk::RandomSource& random) const override {
    if (state.connected_since && now - *state.connected_since >= reset_after_) state.failures = 0;
    state.connected_since.reset();
    ++state.failures;
    if (max_failures_ != 0 && state.failures > max_failures_) return std::nullopt;
    double ceiling = std::min(static_cast<double>(cap_.count()),
                              static_cast<double>(base_.count()) * std::ldexp(1.0, static_cast<int>(std::min(state.failures - 1, 40u))));
    auto delay = sdk::Duration(static_cast<sdk::Duration::rep>(random.uniform(0.0, ceiling)));
    state.last_delay = delay;
    return delay;
  }
  sdk::Duration max_delay() const override { return cap_; }

 private:
  sdk::Duration base_, cap_, reset_after_;
  std::uint32_t max_failures_;
};

/// Wraps any policy and keeps every answer it gave, in order, so a checker
/// can hold the supervisor's RetryScheduled actions against them.
class RecordingBackoff final : public sdk::BackoffPolicy {
 public:
  explicit RecordingBackoff(const sdk::BackoffPolicy& inner) : inner_(inner) {}
  void on_connected(sdk::BackoffState& state, sdk::TimePoint now) const override { inner_.on_connected(state, now); }
  std::optional<sdk::Duration> next_delay(sdk::BackoffState& state, sdk::TimePoint now,
                                          sdk::RandomSource& random) const override {
    auto answer = inner_.next_delay(state, now, random);
    answers.push_back(answer);
    return answer;
  }
  sdk::Duration max_delay() const override { return inner_.max_delay(); }

  mutable std::deque<std::optional<sdk::Duration>> answers;  ///< nullopt: gave up

 private:
  const sdk::BackoffPolicy& inner_;
};

}  // namespace warren::core::supervisor::test

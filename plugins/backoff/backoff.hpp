#pragma once
// Exponential backoff with jitter, as a sans-io BackoffPolicy.
//
//   ceiling(n) = min(max, base * multiplier^(n-1))   for the n-th consecutive failure
//   none:         ceiling
//   full:         uniform [0, ceiling)               (AWS "full jitter")
//   equal:        ceiling/2 + uniform [0, ceiling/2)
//   proportional: ceiling * (1 ± jitter_ratio), capped at max
//
// A connection that stayed up for `reset_after` starts the count again; one
// that drops sooner keeps backing off, so a flapping edge is not hammered.

#include <warren/sdk/config_schema.hpp>
#include <warren/sdk/policy.hpp>

#include <optional>

namespace warren::backoff {

enum class Jitter { none, full, equal, proportional };

struct BackoffConfig {
  sdk::Duration base = std::chrono::seconds(1);
  sdk::Duration max = std::chrono::seconds(30);
  double multiplier = 2.0;
  Jitter jitter = Jitter::full;
  double jitter_ratio = 0.2;       ///< only for Jitter::proportional
  std::uint32_t max_attempts = 0;  ///< 0: retry for ever
  sdk::Duration reset_after = std::chrono::seconds(60);
};

/// The policy's keys: types, defaults (BackoffConfig's), ranges and docs.
const sdk::ConfigSchema<BackoffConfig>& backoff_schema();

class ExponentialBackoff final : public sdk::BackoffPolicy {
 public:
  explicit ExponentialBackoff(BackoffConfig config) : config_(config) {}

  void on_connected(sdk::BackoffState& state, sdk::TimePoint now) const override;
  std::optional<sdk::Duration> next_delay(sdk::BackoffState& state, sdk::TimePoint now,
                                          sdk::RandomSource& random) const override;
  sdk::Duration max_delay() const override { return config_.max; }

  /// The delay before jitter for the `failures`-th consecutive failure (1-based).
  sdk::Duration ceiling(std::uint32_t failures) const;
  const BackoffConfig& config() const { return config_; }

 private:
  BackoffConfig config_;
};

}  // namespace warren::backoff

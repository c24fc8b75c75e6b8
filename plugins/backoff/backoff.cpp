#include "plugins/backoff/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace warren::backoff {

const sdk::ConfigSchema<BackoffConfig>& backoff_schema() {
  using namespace std::chrono_literals;
  using C = BackoffConfig;
  static const auto schema =
      sdk::ConfigSchema<C>("how long a leg waits before it dials again after a failure")
          .duration("base", &C::base, "delay after the first failure", {.min = 1ms, .max = 1h})
          .duration("max", &C::max, "largest delay", {.min = 1ms, .max = 24h})
          .number("multiplier", &C::multiplier, "growth factor per failure", {.min = 1.0, .max = 100.0})
          .choice("jitter", &C::jitter,
                  {{"none", Jitter::none}, {"full", Jitter::full}, {"equal", Jitter::equal},
                   {"proportional", Jitter::proportional}},
                  "how delays are randomised (full: AWS full jitter, uniform below the ceiling)")
          .number("jitter_ratio", &C::jitter_ratio, "spread for proportional jitter, 0..1", {.min = 0.0, .max = 1.0})
          .integer("max_attempts", &C::max_attempts, "consecutive failures before giving up; 0: never",
                   {.min = 0, .max = 1'000'000})
          .duration("reset_after", &C::reset_after, "uptime after which the failure count restarts",
                    {.min = 0s, .max = 24h})
          .check([](const C& c, const sdk::CheckContext& at) {
            if (c.max < c.base)
              at.error("max", "'max' (" + sdk::format_duration(c.max) + ") must not be less than 'base' (" +
                                  sdk::format_duration(c.base) + ")");
            if (at.has("jitter_ratio") && c.jitter != Jitter::proportional)
              at.error("jitter_ratio",
                       "'jitter_ratio' only applies with jitter = \"proportional\"; remove it or change 'jitter'");
          });
  return schema;
}

void ExponentialBackoff::on_connected(sdk::BackoffState& state, sdk::TimePoint now) const {
  state.connected_since = now;
}

sdk::Duration ExponentialBackoff::ceiling(std::uint32_t failures) const {
  if (failures == 0) return sdk::Duration::zero();
  // In floating point: base * multiplier^(n-1) overflows integers quickly.
  double ns = static_cast<double>(config_.base.count()) * std::pow(config_.multiplier, failures - 1.0);
  double cap = static_cast<double>(config_.max.count());
  return sdk::Duration(static_cast<sdk::Duration::rep>(std::min(ns, cap)));
}

std::optional<sdk::Duration> ExponentialBackoff::next_delay(sdk::BackoffState& state, sdk::TimePoint now,
                                                            sdk::RandomSource& random) const {
  if (state.connected_since) {
    if (now - *state.connected_since >= config_.reset_after) state.failures = 0;
    state.connected_since.reset();
  }
  ++state.failures;
  if (config_.max_attempts != 0 && state.failures > config_.max_attempts) return std::nullopt;

  const double top = static_cast<double>(ceiling(state.failures).count());
  double delay = top;
  switch (config_.jitter) {
    case Jitter::none: break;
    case Jitter::full: delay = random.uniform(0.0, top); break;
    case Jitter::equal: delay = top / 2 + random.uniform(0.0, top / 2); break;
    case Jitter::proportional:
      delay = top * random.uniform(1.0 - config_.jitter_ratio, 1.0 + config_.jitter_ratio);
      break;
  }
  delay = std::clamp(delay, 0.0, static_cast<double>(config_.max.count()));
  state.last_delay = sdk::Duration(static_cast<sdk::Duration::rep>(delay));
  return state.last_delay;
}

}  // namespace warren::backoff

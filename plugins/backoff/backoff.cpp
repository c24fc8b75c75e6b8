#include "plugins/backoff/backoff.hpp"

#include <warren/sdk/config_reader.hpp>

#include <algorithm>
#include <cmath>

namespace warren::backoff {

std::optional<BackoffConfig> read_backoff_config(const sdk::ConfigTable& table, sdk::Diagnostics& diagnostics) {
  using namespace std::chrono_literals;
  sdk::Diagnostics local;
  sdk::ConfigReader r(table, local);
  BackoffConfig c;
  auto base = r.duration("base", c.base, "delay after the first failure", {.min = 1ms, .max = 1h});
  auto max = r.duration("max", c.max, "largest delay", {.min = 1ms, .max = 24h});
  auto multiplier = r.number("multiplier", c.multiplier, "growth factor per failure", {.min = 1.0, .max = 100.0});
  auto jitter = r.choice("jitter", {"none", "full", "equal", "proportional"}, "full", "how delays are randomised");
  auto ratio = r.number("jitter_ratio", c.jitter_ratio, "spread for proportional jitter, 0..1", {.min = 0.0, .max = 1.0});
  auto attempts = r.integer("max_attempts", 0, "consecutive failures before giving up; 0: never",
                            {.min = 0, .max = 1'000'000});
  auto reset = r.duration("reset_after", c.reset_after, "uptime after which the failure count restarts",
                          {.min = 0s, .max = 24h});
  r.finish();
  if (!local.ok()) {
    diagnostics.append(local);
    return std::nullopt;
  }
  c.base = *base;
  c.max = *max;
  c.multiplier = *multiplier;
  c.jitter = *jitter == "none" ? Jitter::none : *jitter == "full" ? Jitter::full
           : *jitter == "equal" ? Jitter::equal : Jitter::proportional;
  c.jitter_ratio = *ratio;
  c.max_attempts = static_cast<std::uint32_t>(*attempts);
  c.reset_after = *reset;
  if (c.max < c.base) {
    const sdk::ConfigValue* v = table.find("max");
    diagnostics.error(v ? v->where : table.where, "'max' (" + sdk::format_duration(c.max) +
                                                      ") must not be less than 'base' (" +
                                                      sdk::format_duration(c.base) + ")");
    return std::nullopt;
  }
  if (table.find("jitter_ratio") && c.jitter != Jitter::proportional) {
    diagnostics.error(table.find("jitter_ratio")->where,
                      "'jitter_ratio' only applies with jitter = \"proportional\"; remove it or change 'jitter'");
    return std::nullopt;
  }
  return c;
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

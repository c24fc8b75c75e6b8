#include "plugins/fallback/fallback.hpp"

namespace warren::fallback {

const sdk::ConfigSchema<FallbackConfig>& fallback_schema() {
  using namespace std::chrono_literals;
  using C = FallbackConfig;
  static const auto schema =
      sdk::ConfigSchema<C>("when a leg moves to the next [[transport]], and when it tries the preferred one again")
          .duration("probe_interval", &C::probe_interval,
                    "how often a leg on a fallback transport dials the preferred (first) transport to return to "
                    "it, jittered by 20 %; \"0s\": never return; else at least 1s",
                    {.min = 0s, .max = 24h})
          .integer("max_failures", &C::max_failures,
                   "consecutive dial failures on one transport before a leg moves to the next (at once on "
                   "quic_broken or the address policy's connectivity error)",
                   {.min = 1, .max = 1000})
          .check([](const C& c, const sdk::CheckContext& at) {
            // A probe dials a second connection per leg; more often than
            // this is a reconnect storm, not a return.
            if (c.probe_interval > sdk::Duration::zero() && c.probe_interval < 1s)
              at.error("probe_interval", "'probe_interval' must be \"0s\" (never) or at least 1s, not " +
                                             sdk::format_duration(c.probe_interval));
          });
  return schema;
}

std::size_t CountingFallback::on_error(sdk::FallbackState& state, const sdk::error_code& error,
                                       std::size_t transport_count, sdk::TimePoint) const {
  if (state.current >= transport_count) state.current = 0;
  ++state.dial_failures;
  bool move =
      state.connectivity_error || error == sdk::errc::quic_broken || state.dial_failures >= config_.max_failures;
  if (move && transport_count > 1) {
    state.current = (state.current + 1) % transport_count;
    state.dial_failures = 0;
  }
  return state.current;
}

void CountingFallback::on_connected(sdk::FallbackState& state, sdk::TimePoint) const { state.dial_failures = 0; }

std::optional<sdk::TimePoint> CountingFallback::next_probe(sdk::FallbackState& state, sdk::TimePoint now,
                                                           sdk::RandomSource& random) const {
  if (state.current == 0 || config_.probe_interval <= sdk::Duration::zero()) return std::nullopt;
  auto delay = std::chrono::duration_cast<sdk::Duration>(config_.probe_interval *
                                                         random.uniform(1.0 - probe_jitter, 1.0 + probe_jitter));
  return now + delay;
}

}  // namespace warren::fallback

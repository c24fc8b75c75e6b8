#pragma once
// Transport fallback both ways, as a sans-io FallbackPolicy.
//
// Away: a leg moves to the next configured [[transport]] after `max_failures`
// consecutive dial failures on its current one, at once when the address
// policy reports a connectivity error (the leg failed on every address it
// tried; cloudflared falls back to HTTP/2 then), and at once on `quic_broken`
// (the QUIC transport saw UDP refused on send or no answer to any Initial:
// retrying the same path only delays the tunnel). A rejected handshake
// (tls_failed, handshake_timeout) is a failure like any other, whatever a
// precheck said (cloudflared #1736). The list wraps around.
//
// Back: a leg registered on a fallback transport probes the preferred one
// every `probe_interval`, jittered ±20 % so the legs of many connectors do
// not probe in step (cloudflared #1534: it never went back once UDP healed).

#include <warren/sdk/config_schema.hpp>
#include <warren/sdk/policy.hpp>

#include <cstdint>
#include <optional>

namespace warren::fallback {

struct FallbackConfig {
  sdk::Duration probe_interval = std::chrono::minutes(5);  ///< zero: never probe the preferred transport
  std::uint32_t max_failures = 3;                          ///< consecutive dial failures before moving on
};

/// The policy's keys: types, defaults (FallbackConfig's), ranges and docs.
const sdk::ConfigSchema<FallbackConfig>& fallback_schema();

/// The spread of a probe delay around `probe_interval`: ±20 %.
inline constexpr double probe_jitter = 0.2;

class CountingFallback final : public sdk::FallbackPolicy {
 public:
  explicit CountingFallback(FallbackConfig config) : config_(config) {}

  std::size_t on_error(sdk::FallbackState& state, const sdk::error_code& error, std::size_t transport_count,
                       sdk::TimePoint now) const override;
  void on_connected(sdk::FallbackState& state, sdk::TimePoint now) const override;
  std::optional<sdk::TimePoint> next_probe(sdk::FallbackState& state, sdk::TimePoint now,
                                           sdk::RandomSource& random) const override;

  const FallbackConfig& config() const { return config_; }

 private:
  FallbackConfig config_;
};

}  // namespace warren::fallback

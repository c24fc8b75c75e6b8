#pragma once
// The policy the supervisor uses when no [[policy]] plugin offers the
// fallback role. The other roles are always plugins: backoff and address
// (bundled `backoff` and `ip-rotation`, loaded when no [[policy]] offers
// them); fallback joins them with the HTTP/2 transport.

#include <warren/sdk/policy.hpp>

#include <cstdint>

namespace warren::core::supervisor {

/// Moves a leg to the next configured transport after `max_failures`
/// consecutive dial failures on the current one, or at once when the address
/// policy reports a connectivity error (cloudflared falls back then),
/// wrapping around so a transient QUIC outage does not pin the leg to a
/// fallback forever.
class CountingFallbackPolicy final : public sdk::FallbackPolicy {
 public:
  explicit CountingFallbackPolicy(std::uint32_t max_failures) : max_failures_(max_failures) {}
  std::size_t on_error(sdk::FallbackState& state, const sdk::error_code& error, std::size_t transport_count,
                       sdk::TimePoint now) const override;
  void on_connected(sdk::FallbackState& state, sdk::TimePoint now) const override;

 private:
  std::uint32_t max_failures_;
};

}  // namespace warren::core::supervisor

#pragma once
// The policies the supervisor uses when no [[policy]] plugin offers the
// role. Deliberately plain; the ip-rotation plugin is the rich one.

#include <warren/sdk/policy.hpp>

#include <cstdint>

namespace warren::core::supervisor {

/// Sticks to a leg's address while it is free and keeps working; otherwise
/// takes the next address not held by another leg, preferring an unused
/// region when discovery reports regions.
class RotatingAddressPolicy final : public sdk::AddressPolicy {
 public:
  std::size_t choose(sdk::AddressState& state, std::span<const sdk::EdgeAddress> addresses, unsigned leg,
                     std::span<const std::size_t> taken, sdk::RandomSource& random) const override;
  /// Transport failures move on and count against the address; refusals
  /// that say "this edge, later" keep it; anything else moves on.
  sdk::AddressAction on_error(sdk::AddressState& state, const sdk::error_code& error,
                              sdk::TimePoint now) const override;
};

/// Moves a leg to the next configured transport after `max_failures`
/// consecutive dial failures on the current one, wrapping around so a
/// transient QUIC outage does not pin the leg to a fallback forever.
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

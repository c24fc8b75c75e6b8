#include "core/supervisor/default_policies.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace warren::core::supervisor {
namespace {

bool contains(std::span<const std::size_t> list, std::size_t value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

std::size_t RotatingAddressPolicy::choose(sdk::AddressState& state, std::span<const sdk::EdgeAddress> addresses,
                                          unsigned leg, std::span<const std::size_t> taken,
                                          sdk::RandomSource&) const {
  const std::size_t n = addresses.size();
  if (n == 0) return 0;  // the caller never asks with no addresses
  if (state.current && *state.current < n && !contains(taken, *state.current)) return *state.current;

  std::vector<std::size_t> free;
  for (std::size_t i = 0; i < n; ++i)
    if (!contains(taken, i)) free.push_back(i);
  if (free.empty())
    for (std::size_t i = 0; i < n; ++i) free.push_back(i);

  // A region no other leg uses survives the loss of a whole site.
  std::vector<std::string> used_regions;
  for (std::size_t i : taken)
    if (i < n && !addresses[i].region.empty()) used_regions.push_back(addresses[i].region);
  std::vector<std::size_t> fresh_region;
  for (std::size_t i : free)
    if (!addresses[i].region.empty() &&
        std::find(used_regions.begin(), used_regions.end(), addresses[i].region) == used_regions.end())
      fresh_region.push_back(i);
  const auto& pool = fresh_region.empty() ? free : fresh_region;

  // Walk on from the last address (or from the leg's own slot) so legs
  // and retries spread over the list instead of piling onto the first.
  std::size_t start = state.current && *state.current < n ? (*state.current + 1) % n : leg % n;
  std::size_t best = pool.front();
  std::size_t best_distance = n;
  for (std::size_t i : pool) {
    std::size_t distance = (i + n - start) % n;
    if (distance < best_distance) {
      best = i;
      best_distance = distance;
    }
  }
  if (state.current != best) state.failures_here = 0;
  state.current = best;
  return best;
}

sdk::AddressAction RotatingAddressPolicy::on_error(sdk::AddressState& state, const sdk::error_code& error,
                                                   sdk::TimePoint) const {
  using sdk::errc;
  if (error == errc::dial_failed || error == errc::handshake_timeout || error == errc::tls_failed ||
      error == errc::quic_broken) {
    ++state.failures_here;
    return sdk::AddressAction::rotate_and_count;
  }
  if (error == errc::rate_limited || error == errc::duplicate_registration) return sdk::AddressAction::keep;
  return sdk::AddressAction::rotate;
}

std::size_t CountingFallbackPolicy::on_error(sdk::FallbackState& state, const sdk::error_code&,
                                             std::size_t transport_count, sdk::TimePoint) const {
  if (state.current >= transport_count) state.current = 0;
  if (++state.dial_failures >= max_failures_ && transport_count > 1) {
    state.current = (state.current + 1) % transport_count;
    state.dial_failures = 0;
  }
  return state.current;
}

void CountingFallbackPolicy::on_connected(sdk::FallbackState& state, sdk::TimePoint) const {
  state.dial_failures = 0;
}

}  // namespace warren::core::supervisor

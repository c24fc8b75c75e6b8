#include "core/supervisor/default_policies.hpp"

namespace warren::core::supervisor {

std::size_t CountingFallbackPolicy::on_error(sdk::FallbackState& state, const sdk::error_code& error,
                                             std::size_t transport_count, sdk::TimePoint) const {
  if (state.current >= transport_count) state.current = 0;
  // The transport says UDP looks blocked (a refused send, or no reply to any
  // Initial): more dials over it would only wait out more handshakes.
  bool blocked = error == sdk::errc::quic_broken;
  bool move = blocked || state.connectivity_error || ++state.dial_failures >= max_failures_;
  if (move && transport_count > 1) {
    state.current = (state.current + 1) % transport_count;
    state.dial_failures = 0;
  }
  return state.current;
}

void CountingFallbackPolicy::on_connected(sdk::FallbackState& state, sdk::TimePoint) const { state.dial_failures = 0; }

}  // namespace warren::core::supervisor

#include "core/udp/flow_settings.hpp"

namespace warren::core::udp {

std::optional<std::string> find_problem(const FlowSettings& settings) {
  if (settings.idle_timeout <= sdk::Duration::zero()) return "idle_timeout must be > 0";
  if (settings.max_lifetime < sdk::Duration::zero()) return "max_lifetime must be >= 0 (0: no limit)";
  // A week bounds both, so `now + timeout` cannot overflow a TimePoint.
  constexpr sdk::Duration week = std::chrono::hours(24 * 7);
  if (settings.idle_timeout > week) return "idle_timeout must be at most 7 days";
  if (settings.max_lifetime > week) return "max_lifetime must be at most 7 days";
  if (settings.max_flows == 0) return "max_flows must be >= 1";
  return std::nullopt;
}

}  // namespace warren::core::udp

#include "core/supervisor/supervisor_config.hpp"

#include "core/protocol/message_rules.hpp"

namespace warren::core::supervisor {

std::optional<std::string> find_problem(const SupervisorConfig& c) {
  if (c.ha_connections < 1 || c.ha_connections > protocol::kMaxLegs)
    return "ha_connections must be 1.." + std::to_string(protocol::kMaxLegs) + ", not " +
           std::to_string(c.ha_connections);
  if (c.transport_count < 1) return std::string("at least one transport is needed");
  if (c.stagger < Duration::zero()) return std::string("stagger is negative");
  if (c.heartbeat_interval <= Duration::zero()) return std::string("heartbeat interval must be positive");
  if (c.heartbeat_timeout <= c.heartbeat_interval)
    return std::string("heartbeat timeout must be longer than the heartbeat interval");
  if (c.connect_timeout <= Duration::zero()) return std::string("connect timeout must be positive");
  if (c.grace_period < Duration::zero()) return std::string("grace period is negative");
  if (c.return_drain < Duration::zero()) return std::string("return drain is negative");
  if (c.address_refresh <= Duration::zero()) return std::string("address refresh must be positive");
  if (c.max_retry_after < Duration::zero()) return std::string("max retry-after is negative");
  if (c.discovery_retry_max <= Duration::zero()) return std::string("discovery retry cap must be positive");
  return std::nullopt;
}

}  // namespace warren::core::supervisor

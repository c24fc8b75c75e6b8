// The TunnelRegistry steps a config reload takes (EdgeServer::reload,
// edge_reload_plan.hpp): tunnels removed or changed while connectors run.
#include "core/edge/tunnel_registry.hpp"

namespace warren::core {

std::vector<LegId> TunnelRegistry::legs_of(const std::string& tunnel_id) const {
  std::vector<LegId> out;
  auto it = tunnels_.find(tunnel_id);
  if (it == tunnels_.end()) return out;
  for (const auto& [slot, leg] : it->second.legs) out.push_back(leg);
  out.insert(out.end(), it->second.draining.begin(), it->second.draining.end());
  return out;
}

std::vector<LegId> TunnelRegistry::remove_tunnel(const std::string& id) {
  auto legs = legs_of(id);
  auto it = tunnels_.find(id);
  if (it == tunnels_.end()) return legs;
  if (it->second.port != 0) ports_in_use_.erase(it->second.port);
  tunnels_.erase(it);
  // Kept (remove_leg forgets them) but in no tunnel: never chosen again.
  for (auto leg : legs) legs_.at(leg).draining = true;
  return legs;
}

bool TunnelRegistry::update_tunnel(const TunnelEntry& entry) {
  auto it = tunnels_.find(entry.id);
  if (it == tunnels_.end()) return false;
  Tunnel& t = it->second;
  t.accepted = TokenSet(entry.tokens);
  t.max_replicas = entry.max_replicas;
  if (t.configured_port == entry.public_port) return true;
  if (t.port != 0) return false;
  t.configured_port = entry.public_port;
  return true;
}

}  // namespace warren::core

#include "core/service/service_status.hpp"

#include <algorithm>
#include <vector>

namespace warren::core {

std::string connector_status_text(std::span<const supervisor::LegState> legs) {
  std::size_t registered = 0;
  std::vector<std::string> edges;
  for (const auto& leg : legs) {
    if (leg.phase != supervisor::LegPhase::registered) continue;
    ++registered;
    if (!leg.edge) continue;
    auto edge = leg.edge->to_string();
    if (std::find(edges.begin(), edges.end(), edge) == edges.end()) edges.push_back(edge);
  }
  std::string out = std::to_string(registered) + "/" + std::to_string(legs.size()) + " legs registered";
  if (registered == 0) return out + "; connecting";
  for (std::size_t i = 0; i < edges.size(); ++i) out += (i == 0 ? " to " : ", ") + edges[i];
  return out;
}

std::string edge_status_text(std::uint64_t tunnels, std::uint64_t legs) {
  if (tunnels == 0 && legs == 0) return "listening; no tunnel registered";
  return "serving " + std::to_string(tunnels) + (tunnels == 1 ? " tunnel" : " tunnels") + " over " +
         std::to_string(legs) + (legs == 1 ? " leg" : " legs");
}

}  // namespace warren::core

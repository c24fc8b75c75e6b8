#pragma once
// The STATUS= lines warren sends to systemd (`systemctl status` shows them):
// one sentence a person reads at a glance. Pure, so tests check exact text.

#include "core/supervisor/leg_state.hpp"

#include <cstdint>
#include <span>
#include <string>

namespace warren::core {

/// "2/2 legs registered to 127.0.0.1:7844" (distinct edges, comma-separated),
/// "1/2 legs registered to …", or "0/2 legs registered; connecting".
std::string connector_status_text(std::span<const supervisor::LegState> legs);

/// "serving 1 tunnel over 2 legs" / "listening; no tunnel registered".
std::string edge_status_text(std::uint64_t tunnels, std::uint64_t legs);

}  // namespace warren::core

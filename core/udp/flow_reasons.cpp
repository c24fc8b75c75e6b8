#include "core/udp/flow_reasons.hpp"

namespace warren::core::udp {

std::string_view name(CloseReason reason) noexcept {
  switch (reason) {
    case CloseReason::idle: return "idle";
    case CloseReason::lifetime: return "lifetime";
    case CloseReason::requests: return "requests";
    case CloseReason::responses: return "responses";
    case CloseReason::backend_refused: return "backend_refused";
    case CloseReason::peer_closed: return "peer_closed";
    case CloseReason::shutdown: return "shutdown";
    case CloseReason::leg_lost: return "leg_lost";
  }
  return "unknown";
}

std::string_view name(DropReason reason) noexcept {
  switch (reason) {
    case DropReason::table_full: return "table_full";
    case DropReason::source_cap: return "source_cap";
    case DropReason::opening: return "opening";
    case DropReason::unknown_flow: return "unknown_flow";
    case DropReason::flow_closed: return "flow_closed";
  }
  return "unknown";
}

}  // namespace warren::core::udp

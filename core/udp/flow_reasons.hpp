#pragma once
// Why a UDP flow ended and why a datagram was dropped: stable names for log
// lines and /metrics labels (a label is a name, never a message), and the
// one-byte codes a close frame carries (flow_frame.hpp). Codes and names are
// part of the wire and the metrics contract: add at the end, rename none.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace warren::core::udp {

/// Why a flow ended. Exactly one per flow, in the Close action and the
/// table's counters.
enum class CloseReason : std::uint8_t {
  idle,             ///< no datagram either way for idle_timeout
  lifetime,         ///< max_lifetime after the flow opened
  requests,         ///< carried max_requests requests, then went quiet or the client began anew
  responses,        ///< carried max_responses responses (a DNS flow: 1)
  backend_refused,  ///< the backend could not be opened, or refused later (ICMP unreachable)
  peer_closed,      ///< the other side (edge or connector) ended its half of the flow
  shutdown,         ///< close_all: the tunnel or the process is stopping
  leg_lost,         ///< the leg (connection) that carried the flow ended
};
inline constexpr std::size_t close_reason_count = 8;

/// Why a datagram was not forwarded. Each drop is one Drop action and one
/// count (datagrams and bytes) by reason.
enum class DropReason : std::uint8_t {
  table_full,    ///< a new flow, but the table holds max_flows already
  source_cap,    ///< a new flow, but its source holds max_flows_per_source already
  opening,       ///< the flow's backend is still opening and its one-datagram buffer is taken
  unknown_flow,  ///< a response (or open result) for a flow that is not open (closed, never existed)
  flow_closed,   ///< buffered while opening, and the flow ended before it opened
};
inline constexpr std::size_t drop_reason_count = 5;

/// "idle", "lifetime", "requests", "responses", "backend_refused",
/// "peer_closed", "shutdown", "leg_lost".
std::string_view name(CloseReason reason) noexcept;
/// "table_full", "source_cap", "opening", "unknown_flow", "flow_closed".
std::string_view name(DropReason reason) noexcept;

/// Every reason in code order, for rendering counters.
inline constexpr std::array<CloseReason, close_reason_count> all_close_reasons{
    CloseReason::idle,        CloseReason::lifetime,   CloseReason::requests, CloseReason::responses,
    CloseReason::backend_refused, CloseReason::peer_closed, CloseReason::shutdown, CloseReason::leg_lost};
inline constexpr std::array<DropReason, drop_reason_count> all_drop_reasons{
    DropReason::table_full, DropReason::source_cap, DropReason::opening, DropReason::unknown_flow,
    DropReason::flow_closed};

/// The close frame's reason byte: 1 + the enum's value (0 is "unspecified",
/// never sent). from_wire returns nullopt for 0 and for codes this build
/// does not know (a newer peer's): the flow closes all the same.
constexpr std::uint8_t to_wire(CloseReason reason) noexcept { return static_cast<std::uint8_t>(reason) + 1; }
constexpr std::optional<CloseReason> close_reason_from_wire(std::uint8_t code) noexcept {
  if (code == 0 || code > close_reason_count) return std::nullopt;
  return static_cast<CloseReason>(code - 1);
}

}  // namespace warren::core::udp

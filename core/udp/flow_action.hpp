#pragma once
// What a FlowTable asks its shell to do. The shell drains poll_action() after
// every handle_* call, carries each action out at once and in order, and
// arms one timer for FlowTable::next_timeout(). Payloads move out of the
// table with the action: the shell owns them from there.

#include "core/udp/flow_key.hpp"
#include "core/udp/flow_reasons.hpp"

#include <warren/sdk/datagram.hpp>
#include <warren/sdk/time.hpp>

#include <cstddef>
#include <cstdint>
#include <variant>

namespace warren::core::udp {

/// Open the backend for a new flow (connector: Backend::async_open_flow),
/// then answer handle_opened or handle_open_failed. Only when the table's
/// settings say open_step; without it a flow is open from its first datagram.
struct OpenFlow {
  FlowId flow = 0;
  FlowKey key;
};

/// Send a client's datagram toward the service: on the edge, into the tunnel
/// as a request frame (flow id + key.client + payload); on the connector, to
/// the flow's DatagramFlow. `first`: the flow's first forwarded request (a
/// PROXY v2 header "on the first datagram" goes on this one).
struct ForwardRequest {
  FlowId flow = 0;
  FlowKey key;
  std::uint64_t peer_flow = 0;  ///< as given to handle_request when the flow began
  bool first = false;
  sdk::Datagram payload;
};

/// Send a service's datagram back toward the client: on the edge, from the
/// public socket to key.client; on the connector, into the tunnel on leg
/// key.origin as a response frame for the edge's flow `peer_flow`.
struct ForwardResponse {
  FlowId flow = 0;
  FlowKey key;
  std::uint64_t peer_flow = 0;
  sdk::Datagram payload;
};

/// What a flow carried, for its close log line.
struct FlowSummary {
  sdk::TimePoint began{};            ///< its first datagram
  std::uint64_t requests = 0;        ///< forwarded client -> service
  std::uint64_t responses = 0;       ///< forwarded service -> client
  std::uint64_t request_bytes = 0;   ///< payload bytes of those
  std::uint64_t response_bytes = 0;
};

/// The flow ended (exactly once per flow; no action names it afterwards).
/// The shell releases what it holds for it (the connector's DatagramFlow)
/// and, unless `by_peer`, tells the other side with a close frame for
/// `peer_flow` (connector) or `flow` (edge).
struct CloseFlow {
  FlowId flow = 0;
  FlowKey key;
  std::uint64_t peer_flow = 0;
  CloseReason reason = CloseReason::idle;
  /// The other side ended it (its close frame, or it began a new flow for
  /// the client): it knows, so no close frame goes back. Always true for
  /// peer_closed; with another reason when the peer's frame named one.
  bool by_peer = false;
  bool was_open = false;  ///< its backend was open (false: it ended while opening)
  FlowSummary summary;
};

/// A datagram the table did not forward (already counted in counters()).
/// `flow`: the flow it named or belonged to (unknown_flow: the id the shell
/// gave; opening, flow_closed: its flow); 0 for table_full and source_cap.
struct DropDatagram {
  DropReason reason = DropReason::unknown_flow;
  FlowId flow = 0;
  std::size_t bytes = 0;
};

using FlowAction = std::variant<OpenFlow, ForwardRequest, ForwardResponse, CloseFlow, DropDatagram>;

}  // namespace warren::core::udp

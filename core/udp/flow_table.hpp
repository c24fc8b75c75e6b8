#pragma once
// The UDP flow table: which public client's datagrams belong together, when a
// flow ends and why, as a sans-io engine (no socket, no clock) after sozu's
// UDP flow state machine (sozu-proxy/sozu lib/src/protocol/udp/flow.rs,
// manager.rs, LIFECYCLE.md): per-flow idle and lifetime deadlines,
// request/response counts that end a flow early, timer generation tokens, a
// one-datagram buffer while the backend opens, a close reason per flow.
//
// One table per tunnel on each side. Edge: clients are the public UDP
// clients, "requests" go into the tunnel, "responses" come back from the
// connector (open_step false). Connector: clients are the edge's flows (key
// origin = the leg), requests go to the udp backend's DatagramFlow opened per
// flow (open_step true), responses go back to the edge, addressed by the
// edge's flow id kept as `peer_flow`.
//
// Driving it: call handle_*(now, ...) on each event, then drain poll_action()
// and arm one timer for next_timeout(); call handle_timeout(now) when it
// fires. `now` never goes back: an earlier `now` than one already seen is
// taken as the latest seen (a steady clock does not, a test's might).
//
// Where this differs from sozu, and why:
// - max_requests does not end the flow at the N-th request (sozu closes its
//   upstream socket there, losing the reply a DNS 1/1 flow waits for); the
//   flow stops forwarding requests and waits for responses (see
//   FlowSettings::max_requests).
// - While opening, the FIRST datagram is kept and later ones dropped
//   (`opening`); sozu keeps the newest. The first is the one that makes the
//   flow (a DNS query; later ones are usually its retries).
// - Timers: a min-heap of (deadline, flow, generation) entries with lazy
//   re-arming. A datagram only moves the flow's deadline (no heap work per
//   datagram); an entry that comes due is compared with the flow: another
//   generation, or a flow gone, is stale and ignored; a flow whose deadline
//   moved on is re-armed with a new generation. Flow ids are never reused, so
//   an old timer cannot end a newer flow of the same key either way.

#include "core/udp/flow_action.hpp"
#include "core/udp/flow_key.hpp"
#include "core/udp/flow_reasons.hpp"
#include "core/udp/flow_settings.hpp"

#include <warren/sdk/datagram.hpp>
#include <warren/sdk/time.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <vector>

namespace warren::core::udp {

/// Totals since the table was made, for /metrics (the shell renders them with
/// name(reason) as the label).
struct FlowCounters {
  std::uint64_t flows_opened = 0;  ///< flows begun (OpenFlow or open at once)
  std::array<std::uint64_t, close_reason_count> flows_closed{};  ///< by CloseReason
  std::array<std::uint64_t, drop_reason_count> dropped{};        ///< datagrams by DropReason
  std::array<std::uint64_t, drop_reason_count> dropped_bytes{};
  std::uint64_t requests = 0;  ///< forwarded client -> service
  std::uint64_t responses = 0;
  std::uint64_t request_bytes = 0;
  std::uint64_t response_bytes = 0;

  std::uint64_t closed(CloseReason reason) const { return flows_closed[static_cast<std::size_t>(reason)]; }
  std::uint64_t drops(DropReason reason) const { return dropped[static_cast<std::size_t>(reason)]; }
};

/// One live flow, for /status and tests.
struct FlowInfo {
  FlowId id = 0;
  FlowKey key;
  std::uint64_t peer_flow = 0;
  bool open = false;            ///< false while its backend opens
  bool requests_done = false;   ///< carried max_requests: forwards no more requests
  bool holds_datagram = false;  ///< opening with its one datagram buffered
  sdk::TimePoint deadline{};    ///< when it ends unless a datagram comes (idle or lifetime)
  FlowSummary summary;
};

class FlowTable {
 public:
  /// Throws std::invalid_argument when find_problem(settings) finds one.
  explicit FlowTable(FlowSettings settings);

  /// A client's datagram (client -> service). The key's flow carries it, or a
  /// new flow begins (OpenFlow, or forwarded at once without open_step) when
  /// there is none, when the flow carried max_requests already (it ends,
  /// `requests`), or when `peer_flow` differs from the flow's (the peer began
  /// a new flow for this client: the old one ends, `peer_closed`). Returns the
  /// flow that took it, or 0 when it was dropped.
  FlowId handle_request(sdk::TimePoint now, const FlowKey& key, sdk::Datagram payload, std::uint64_t peer_flow = 0);
  /// A service's datagram for flow `id` (service -> client): forwarded, or
  /// dropped (`unknown_flow`) when the flow is not open. Ends the flow
  /// (`responses`) when it was the max_responses-th.
  void handle_response(sdk::TimePoint now, FlowId id, sdk::Datagram payload);
  /// The backend of an opening flow is ready: its buffered datagram goes.
  /// Ignored for a flow not opening (ended meanwhile: the shell closes
  /// what it opened when it sees no flow, see is_live()).
  void handle_opened(sdk::TimePoint now, FlowId id);
  /// The backend of an opening flow could not be opened: it ends
  /// (`backend_refused`). Ignored for a flow not opening.
  void handle_open_failed(sdk::TimePoint now, FlowId id);
  /// The open backend refused (ICMP port unreachable): the flow ends
  /// (`backend_refused`). Ignored for an unknown flow.
  void handle_backend_refused(sdk::TimePoint now, FlowId id);
  /// The other side ended the flow (a close frame): it ends with `reason`,
  /// the one the frame named when the caller knows it (the connector's
  /// backend_refused, idle …), else peer_closed; its CloseFlow is by_peer.
  void handle_peer_closed(sdk::TimePoint now, FlowId id, CloseReason reason = CloseReason::peer_closed);
  /// Ends flow `id` with `reason` (edge: the leg that carried it ended,
  /// leg_lost). Ignored for an unknown flow.
  void close_flow(sdk::TimePoint now, FlowId id, CloseReason reason);
  /// Ends every flow whose key.origin is `origin` (connector: that leg's
  /// connection ended, leg_lost); returns how many.
  std::size_t close_origin(sdk::TimePoint now, std::uint32_t origin, CloseReason reason);
  /// Ends every flow due at `now` (idle, lifetime, requests).
  void handle_timeout(sdk::TimePoint now);
  /// Ends every flow with `reason` (shutdown; a reload that drops the
  /// tunnel). The table stays usable: a later request begins a new flow.
  void close_all(sdk::TimePoint now, CloseReason reason = CloseReason::shutdown);
  /// New limits (a config reload), for live flows too: each flow's deadline
  /// is computed anew (idle_timeout and max_lifetime from its last datagram
  /// and its start), and a flow already past its new deadline ends now;
  /// a flow that carried the new max_requests forwards no more requests, one
  /// that carried max_responses ends at its next response; max_flows and
  /// max_flows_per_source gate new flows (none ends for them). open_step
  /// stays the table's (its flows' state depends on it). Throws
  /// std::invalid_argument, changing nothing, when find_problem() finds one.
  void update_settings(sdk::TimePoint now, const FlowSettings& settings);

  /// The next thing to do, in order; nullopt when there is nothing.
  std::optional<FlowAction> poll_action();
  /// When to call handle_timeout; nullopt when no flow is live. After
  /// handle_timeout(now) it is later than `now`.
  std::optional<sdk::TimePoint> next_timeout() const;

  std::size_t size() const { return flows_.size(); }
  bool is_live(FlowId id) const { return flows_.contains(id); }
  std::optional<FlowId> find(const FlowKey& key) const;
  /// The live flow the peer knows as `peer_flow` on leg `origin` (connector:
  /// a close frame names the edge's flow id). peer_flow 0 is never indexed.
  std::optional<FlowId> find_peer(std::uint32_t origin, std::uint64_t peer_flow) const;
  std::optional<FlowInfo> info(FlowId id) const;
  /// Live flows of `address`'s source (its IPv4 address or IPv6 /64).
  std::size_t source_flows(const boost::asio::ip::address& address) const;
  /// Live flows whose key.origin is `origin` (connector: a leg connection's),
  /// counted by a walk over the table: for /status, not for every datagram.
  std::size_t origin_flows(std::uint32_t origin) const;
  const FlowCounters& counters() const { return counters_; }
  const FlowSettings& settings() const { return settings_; }

 private:
  struct Flow {
    FlowId id = 0;
    FlowKey key;
    std::uint64_t peer_flow = 0;
    SourcePrefix source;
    bool open = false;
    bool forwarded_any = false;  ///< a ForwardRequest went (the next is not `first`)
    sdk::TimePoint last_activity{};
    std::optional<sdk::Datagram> buffered;  ///< opening: the one datagram kept
    std::uint64_t timer_generation = 0;     ///< of the heap entry that is this flow's live timer
    FlowSummary summary;
  };
  struct TimerEntry {
    sdk::TimePoint deadline;
    FlowId flow;
    std::uint64_t generation;
    bool operator>(const TimerEntry& other) const { return deadline > other.deadline; }
  };
  struct PeerRef {
    std::uint32_t origin;
    std::uint64_t peer_flow;
    friend bool operator==(const PeerRef&, const PeerRef&) = default;
  };
  struct PeerRefHash {
    std::size_t operator()(const PeerRef& ref) const noexcept;
  };

  sdk::TimePoint advance(sdk::TimePoint now);
  bool requests_done(const Flow& flow) const;
  /// When `flow` ends unless a datagram comes, and why.
  std::pair<sdk::TimePoint, CloseReason> deadline_of(const Flow& flow) const;
  FlowId begin_flow(sdk::TimePoint now, const FlowKey& key, sdk::Datagram& payload, std::uint64_t peer_flow);
  void forward_request(sdk::TimePoint now, Flow& flow, sdk::Datagram payload);
  /// Ends `flow` when its deadline passed (a timer the shell has not run
  /// yet): a flow never carries a datagram past its idle or lifetime end.
  bool expire_if_due(const Flow& flow, sdk::TimePoint now);
  void arm(Flow& flow);
  void end_flow(FlowId id, CloseReason reason, bool by_peer = false);
  void drop(DropReason reason, FlowId flow, std::size_t bytes);
  /// Pops stale entries off the heap's top; compacts it when mostly stale.
  void prune_timers();

  FlowSettings settings_;
  sdk::TimePoint latest_{};
  FlowId next_id_ = 1;
  std::unordered_map<FlowId, Flow> flows_;
  std::unordered_map<FlowKey, FlowId, FlowKeyHash> by_key_;
  std::unordered_map<PeerRef, FlowId, PeerRefHash> by_peer_;
  std::unordered_map<SourcePrefix, std::size_t, SourcePrefixHash> per_source_;
  std::vector<TimerEntry> timers_;  ///< a min-heap (std::push_heap with std::greater)
  std::size_t stale_timers_ = 0;     ///< entries in timers_ of ended flows
  std::deque<FlowAction> actions_;
  FlowCounters counters_;
};

}  // namespace warren::core::udp

// FlowTable: datagrams, opening and ending flows. The timers are in
// flow_table_timers.cpp.
#include "core/udp/flow_table.hpp"

#include <boost/container_hash/hash.hpp>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace warren::core::udp {

std::size_t FlowTable::PeerRefHash::operator()(const PeerRef& ref) const noexcept {
  std::size_t seed = ref.origin;
  boost::hash_combine(seed, ref.peer_flow);
  return seed;
}

FlowTable::FlowTable(FlowSettings settings) : settings_(settings) {
  if (auto problem = find_problem(settings_)) throw std::invalid_argument("udp flows: " + *problem);
}

sdk::TimePoint FlowTable::advance(sdk::TimePoint now) {
  if (now > latest_) latest_ = now;
  return latest_;
}

bool FlowTable::requests_done(const Flow& flow) const {
  return settings_.max_requests != 0 && flow.summary.requests >= settings_.max_requests;
}

FlowId FlowTable::handle_request(sdk::TimePoint now, const FlowKey& key, sdk::Datagram payload,
                                 std::uint64_t peer_flow) {
  now = advance(now);
  if (auto found = by_key_.find(key); found != by_key_.end()) {
    Flow& flow = flows_.at(found->second);
    if (expire_if_due(flow, now)) {
      // Ended; the datagram begins a new flow below.
    } else if (flow.peer_flow != peer_flow) {
      end_flow(flow.id, CloseReason::peer_closed);
    } else if (requests_done(flow)) {
      end_flow(flow.id, CloseReason::requests);
    } else if (!flow.open) {
      // Client traffic keeps an opening flow alive, but only the first
      // datagram waits for the backend.
      flow.last_activity = now;
      if (flow.buffered) {
        drop(DropReason::opening, flow.id, payload.size());
        return 0;
      }
      flow.buffered = std::move(payload);
      return flow.id;
    } else {
      forward_request(now, flow, std::move(payload));
      return flow.id;
    }
  }
  const FlowId id = begin_flow(now, key, payload, peer_flow);
  prune_timers();
  return id;
}

FlowId FlowTable::begin_flow(sdk::TimePoint now, const FlowKey& key, sdk::Datagram& payload,
                             std::uint64_t peer_flow) {
  if (flows_.size() >= settings_.max_flows) {
    drop(DropReason::table_full, 0, payload.size());
    return 0;
  }
  const SourcePrefix source = source_prefix(key.client.address());
  const auto same_source = per_source_.find(source);
  if (settings_.max_flows_per_source != 0 && same_source != per_source_.end() &&
      same_source->second >= settings_.max_flows_per_source) {
    drop(DropReason::source_cap, 0, payload.size());
    return 0;
  }
  const FlowId id = next_id_++;
  Flow& flow = flows_[id];
  flow.id = id;
  flow.key = key;
  flow.peer_flow = peer_flow;
  flow.source = source;
  flow.open = !settings_.open_step;
  flow.last_activity = now;
  flow.summary.began = now;
  by_key_[key] = id;
  if (peer_flow != 0) by_peer_.insert_or_assign(PeerRef{key.origin, peer_flow}, id);
  ++per_source_[source];
  ++counters_.flows_opened;
  arm(flow);
  if (flow.open) {
    forward_request(now, flow, std::move(payload));
  } else {
    flow.buffered = std::move(payload);
    actions_.emplace_back(OpenFlow{id, key});
  }
  return id;
}

void FlowTable::forward_request(sdk::TimePoint now, Flow& flow, sdk::Datagram payload) {
  flow.last_activity = now;
  ++flow.summary.requests;
  flow.summary.request_bytes += payload.size();
  ++counters_.requests;
  counters_.request_bytes += payload.size();
  const bool first = !flow.forwarded_any;
  flow.forwarded_any = true;
  actions_.emplace_back(ForwardRequest{flow.id, flow.key, flow.peer_flow, first, std::move(payload)});
}

void FlowTable::handle_response(sdk::TimePoint now, FlowId id, sdk::Datagram payload) {
  now = advance(now);
  const auto found = flows_.find(id);
  if (found == flows_.end() || !found->second.open || expire_if_due(found->second, now)) {
    drop(DropReason::unknown_flow, id, payload.size());
    prune_timers();
    return;
  }
  Flow& flow = found->second;
  flow.last_activity = now;
  ++flow.summary.responses;
  flow.summary.response_bytes += payload.size();
  ++counters_.responses;
  counters_.response_bytes += payload.size();
  actions_.emplace_back(ForwardResponse{flow.id, flow.key, flow.peer_flow, std::move(payload)});
  if (settings_.max_responses != 0 && flow.summary.responses >= settings_.max_responses) {
    end_flow(id, CloseReason::responses);
    prune_timers();
  }
}

void FlowTable::handle_opened(sdk::TimePoint now, FlowId id) {
  now = advance(now);
  const auto found = flows_.find(id);
  if (found == flows_.end() || found->second.open) return;
  Flow& flow = found->second;
  if (expire_if_due(flow, now)) {
    prune_timers();
    return;
  }
  flow.open = true;
  if (flow.buffered) {
    sdk::Datagram first = std::move(*flow.buffered);
    flow.buffered.reset();
    forward_request(now, flow, std::move(first));
  }
}

void FlowTable::handle_open_failed(sdk::TimePoint now, FlowId id) {
  advance(now);
  const auto found = flows_.find(id);
  if (found == flows_.end() || found->second.open) return;
  end_flow(id, CloseReason::backend_refused);
  prune_timers();
}

void FlowTable::handle_backend_refused(sdk::TimePoint now, FlowId id) {
  advance(now);
  if (flows_.contains(id)) end_flow(id, CloseReason::backend_refused);
  prune_timers();
}

void FlowTable::handle_peer_closed(sdk::TimePoint now, FlowId id, CloseReason reason) {
  advance(now);
  if (flows_.contains(id)) end_flow(id, reason, /*by_peer=*/true);
  prune_timers();
}

void FlowTable::close_flow(sdk::TimePoint now, FlowId id, CloseReason reason) {
  advance(now);
  if (flows_.contains(id)) end_flow(id, reason);
  prune_timers();
}

std::size_t FlowTable::close_origin(sdk::TimePoint now, std::uint32_t origin, CloseReason reason) {
  advance(now);
  std::vector<FlowId> ending;
  for (const auto& [id, flow] : flows_) {
    if (flow.key.origin == origin) ending.push_back(id);
  }
  // In id order, so the close actions come out the same whatever the hash.
  std::sort(ending.begin(), ending.end());
  for (FlowId id : ending) end_flow(id, reason);
  prune_timers();
  return ending.size();
}

void FlowTable::end_flow(FlowId id, CloseReason reason, bool by_peer) {
  auto node = flows_.extract(id);
  if (node.empty()) return;
  Flow& flow = node.mapped();
  by_key_.erase(flow.key);
  if (flow.peer_flow != 0) {
    const PeerRef ref{flow.key.origin, flow.peer_flow};
    // Only this flow's entry: a newer flow may have taken the same peer id.
    if (const auto indexed = by_peer_.find(ref); indexed != by_peer_.end() && indexed->second == id) {
      by_peer_.erase(indexed);
    }
  }
  if (const auto source = per_source_.find(flow.source); source != per_source_.end() && --source->second == 0) {
    per_source_.erase(source);
  }
  // The buffered datagram is dropped before the close: nothing names a
  // flow after its CloseFlow.
  if (flow.buffered) drop(DropReason::flow_closed, id, flow.buffered->size());
  ++counters_.flows_closed[static_cast<std::size_t>(reason)];
  ++stale_timers_;  // its live heap entry
  actions_.emplace_back(CloseFlow{id, flow.key, flow.peer_flow, reason, by_peer || reason == CloseReason::peer_closed,
                                  flow.open, flow.summary});
}

void FlowTable::drop(DropReason reason, FlowId flow, std::size_t bytes) {
  ++counters_.dropped[static_cast<std::size_t>(reason)];
  counters_.dropped_bytes[static_cast<std::size_t>(reason)] += bytes;
  actions_.emplace_back(DropDatagram{reason, flow, bytes});
}

std::optional<FlowAction> FlowTable::poll_action() {
  if (actions_.empty()) return std::nullopt;
  FlowAction action = std::move(actions_.front());
  actions_.pop_front();
  return action;
}

std::optional<FlowId> FlowTable::find(const FlowKey& key) const {
  const auto found = by_key_.find(key);
  if (found == by_key_.end()) return std::nullopt;
  return found->second;
}

std::optional<FlowId> FlowTable::find_peer(std::uint32_t origin, std::uint64_t peer_flow) const {
  const auto found = by_peer_.find(PeerRef{origin, peer_flow});
  if (peer_flow == 0 || found == by_peer_.end()) return std::nullopt;
  return found->second;
}

std::optional<FlowInfo> FlowTable::info(FlowId id) const {
  const auto found = flows_.find(id);
  if (found == flows_.end()) return std::nullopt;
  const Flow& flow = found->second;
  return FlowInfo{flow.id,           flow.key, flow.peer_flow, flow.open, requests_done(flow), flow.buffered.has_value(),
                  deadline_of(flow).first, flow.summary};
}

std::size_t FlowTable::source_flows(const boost::asio::ip::address& address) const {
  const auto found = per_source_.find(source_prefix(address));
  return found == per_source_.end() ? 0 : found->second;
}

std::size_t FlowTable::origin_flows(std::uint32_t origin) const {
  return static_cast<std::size_t>(
      std::count_if(flows_.begin(), flows_.end(), [origin](const auto& f) { return f.second.key.origin == origin; }));
}

}  // namespace warren::core::udp

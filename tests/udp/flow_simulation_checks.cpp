// FlowSimulation: the model's view of each action, and the checks after each
// event and at the end (flow_simulation.cpp lists the invariants).
#include "flow_simulation.hpp"

#include <string>

namespace warren::core::udp::test {
namespace {

std::uint64_t serial_of(const sdk::Datagram& payload) {
  std::uint64_t serial = 0;
  for (std::size_t i = 0; i < 8 && i < payload.size(); ++i) {
    serial |= std::uint64_t{std::to_integer<std::uint8_t>(payload[i])} << (8 * i);
  }
  return serial;
}

std::string id_text(FlowId id) { return "flow " + std::to_string(id); }

}  // namespace

void FlowSimulation::absorb(Event event, std::optional<std::uint64_t> serial, std::size_t bytes, FlowId target) {
  accounted_ = 0;
  while (auto action = table_->poll_action()) {
    if (violation_) continue;  // drain, the run is over
    if (const auto* open = std::get_if<OpenFlow>(&*action)) {
      if (event != Event::request || !settings_.open_step) return fail("OpenFlow outside a request");
      if (flows_.contains(open->flow)) return fail(id_text(open->flow) + " opened twice");
      if (!(open->key == request_key_)) return fail("OpenFlow for another key");
      flows_[open->flow] = ModelFlow{open->key, request_peer_, table_now_, table_now_};
      ++totals_.flows;
      opens_.push_back(PendingOpen{open->flow, now_ + std::chrono::milliseconds(below(3000)), !chance(0.15)});
    } else if (const auto* forward = std::get_if<ForwardRequest>(&*action)) {
      absorb_request(event, *forward, serial, target);
    } else if (const auto* answer = std::get_if<ForwardResponse>(&*action)) {
      const auto found = flows_.find(answer->flow);
      if (event != Event::response || answer->flow != target) return fail("a response forwarded outside its event");
      if (found == flows_.end() || found->second.closed) return fail("response for ended " + id_text(answer->flow));
      ModelFlow& flow = found->second;
      if (!flow.opened) return fail("response forwarded before " + id_text(answer->flow) + " opened");
      if (deadline(flow) <= table_now_) return fail("response forwarded past the deadline of " + id_text(answer->flow));
      if (settings_.max_responses != 0 && flow.responses >= settings_.max_responses) {
        return fail("more than max_responses on " + id_text(answer->flow));
      }
      if (!(answer->key == flow.key) || answer->peer_flow != flow.peer_flow) return fail("response with a wrong key");
      if (serial_of(answer->payload) != serial) return fail("response carries another payload");
      ++flow.responses;
      flow.last = table_now_;
      ++accounted_;
      ++totals_.responses_forwarded;
    } else if (const auto* close = std::get_if<CloseFlow>(&*action)) {
      absorb_close(event, *close, target);
    } else if (const auto* drop = std::get_if<DropDatagram>(&*action)) {
      absorb_drop(event, *drop, bytes, target);
    }
  }
}

void FlowSimulation::absorb_request(Event event, const ForwardRequest& forward, std::optional<std::uint64_t> serial,
                                    FlowId target) {
  auto found = flows_.find(forward.flow);
  if (found == flows_.end()) {
    // Without the open step a flow begins with its first forward.
    if (settings_.open_step || event != Event::request) return fail("forward for unknown " + id_text(forward.flow));
    found = flows_.emplace(forward.flow, ModelFlow{request_key_, request_peer_, table_now_, table_now_, true}).first;
    ++totals_.flows;
  }
  ModelFlow& flow = found->second;
  if (flow.closed) return fail("request forwarded for ended " + id_text(forward.flow));
  const bool opening_now = event == Event::opened && forward.flow == target;
  if (!flow.opened && !opening_now) return fail("request forwarded before " + id_text(forward.flow) + " opened");
  if (deadline(flow) <= table_now_) return fail("request forwarded past the deadline of " + id_text(forward.flow));
  if (settings_.max_requests != 0 && flow.requests >= settings_.max_requests) {
    return fail("more than max_requests on " + id_text(forward.flow));
  }
  if (!(forward.key == flow.key) || forward.peer_flow != flow.peer_flow) return fail("request with a wrong key");
  if (forward.first != (flow.requests == 0)) return fail("`first` wrong on " + id_text(forward.flow));
  const std::uint64_t carried = serial_of(forward.payload);
  if (opening_now) {
    if (!flow.held || *flow.held != carried) return fail("opened flow forwarded something else than it held");
    flow.held.reset();
  } else if (event != Event::request || carried != serial) {
    return fail("request forwarded outside its event");
  } else {
    ++accounted_;
  }
  ++flow.requests;
  flow.last = table_now_;
  ++totals_.requests_forwarded;
}

void FlowSimulation::absorb_close(Event event, const CloseFlow& close, FlowId target) {
  const auto found = flows_.find(close.flow);
  if (found == flows_.end() || found->second.closed) return fail("close of unknown or ended " + id_text(close.flow));
  ModelFlow& flow = found->second;
  if (flow.held) return fail(id_text(close.flow) + " closed holding a datagram");
  const sdk::TimePoint idle_end = flow.last + settings_.idle_timeout;
  const bool has_life = settings_.max_lifetime > sdk::Duration::zero();
  const sdk::TimePoint life_end = flow.began + settings_.max_lifetime;
  const bool requests_done = settings_.max_requests != 0 && flow.requests == settings_.max_requests;
  const bool own_request = event == Event::request && close.key == request_key_;
  bool true_reason = false;
  switch (close.reason) {
    case CloseReason::idle:
      true_reason = idle_end <= table_now_ && !requests_done && !(has_life && life_end <= idle_end);
      break;
    case CloseReason::lifetime: true_reason = has_life && life_end <= table_now_ && life_end <= idle_end; break;
    case CloseReason::requests:
      true_reason = requests_done && (own_request || idle_end <= table_now_) && !(has_life && life_end <= idle_end &&
                                                                                  life_end <= table_now_);
      break;
    case CloseReason::responses:
      true_reason = event == Event::response && close.flow == target && settings_.max_responses != 0 &&
                    flow.responses == settings_.max_responses;
      break;
    case CloseReason::backend_refused:
      true_reason = (event == Event::open_failed || event == Event::refused) && close.flow == target;
      break;
    case CloseReason::peer_closed:
      true_reason = (event == Event::peer_closed && close.flow == target) ||
                    (own_request && close.peer_flow != request_peer_);
      break;
    case CloseReason::shutdown: true_reason = event == Event::close_all; break;
    case CloseReason::leg_lost: break;  // the simulation loses no leg: never true here
  }
  if (!true_reason) return fail(id_text(close.flow) + " closed as " + std::string(name(close.reason)) + ", untrue");
  if (close.summary.requests != flow.requests || close.summary.responses != flow.responses ||
      close.summary.began != flow.began) {
    return fail("the close summary of " + id_text(close.flow) + " disagrees");
  }
  if (close.was_open != flow.opened || !(close.key == flow.key) || close.peer_flow != flow.peer_flow) {
    return fail("the close of " + id_text(close.flow) + " names another flow's key or state");
  }
  flow.closed = true;
  ++totals_.closes[std::string(name(close.reason))];
}

void FlowSimulation::absorb_drop(Event event, const DropDatagram& drop, std::size_t bytes, FlowId target) {
  const std::string reason(name(drop.reason));
  ++drops_[reason];
  ++totals_.drops[reason];
  const auto found = flows_.find(drop.flow);
  switch (drop.reason) {
    case DropReason::table_full:
      if (event != Event::request || drop.bytes != bytes || live_count() != settings_.max_flows) {
        return fail("untrue table_full drop");
      }
      ++accounted_;
      break;
    case DropReason::source_cap:
      if (event != Event::request || drop.bytes != bytes || settings_.max_flows_per_source == 0 ||
          live_in_source(request_key_) != settings_.max_flows_per_source) {
        return fail("untrue source_cap drop");
      }
      ++accounted_;
      break;
    case DropReason::opening:
      if (event != Event::request || drop.bytes != bytes || found == flows_.end() || found->second.closed ||
          found->second.opened || !found->second.held || !(found->second.key == request_key_)) {
        return fail("untrue opening drop");
      }
      found->second.last = table_now_;
      ++accounted_;
      break;
    case DropReason::unknown_flow:
      if (event != Event::response || drop.flow != target || drop.bytes != bytes ||
          (found != flows_.end() && !found->second.closed && found->second.opened)) {
        return fail("untrue unknown_flow drop for " + id_text(drop.flow));
      }
      ++accounted_;
      break;
    case DropReason::flow_closed:
      if (found == flows_.end() || found->second.closed || !found->second.held ||
          found->second.held_bytes != drop.bytes) {
        return fail("untrue flow_closed drop for " + id_text(drop.flow));
      }
      found->second.held.reset();
      break;
  }
}

void FlowSimulation::check_after(Event event) {
  if (violation_) return;
  if (table_->size() != live_count()) return fail("the table holds " + std::to_string(table_->size()) + " flows, the model " + std::to_string(live_count()));
  if (table_->size() > settings_.max_flows) return fail("more than max_flows");
  std::optional<sdk::TimePoint> earliest;
  for (const auto& [id, flow] : flows_) {
    if (flow.closed) {
      if (table_->is_live(id)) return fail(id_text(id) + " closed but live in the table");
      continue;
    }
    const auto info = table_->info(id);
    if (!info) return fail(id_text(id) + " live in the model only");
    if (info->deadline != deadline(flow)) return fail("the deadline of " + id_text(id) + " disagrees");
    if (info->open != flow.opened || info->holds_datagram != flow.held.has_value()) {
      return fail("the state of " + id_text(id) + " disagrees");
    }
    if (settings_.max_flows_per_source != 0 && live_in_source(flow.key) > settings_.max_flows_per_source) {
      return fail("a source holds more than max_flows_per_source");
    }
    if (event == Event::timeout && info->deadline <= table_now_) return fail(id_text(id) + " outlived its deadline");
    if (!earliest || info->deadline < *earliest) earliest = info->deadline;
  }
  const auto next = table_->next_timeout();
  if (earliest.has_value() != next.has_value()) return fail("next_timeout set without flows, or missing with flows");
  if (next && *next > *earliest) return fail("next_timeout later than a flow's deadline");
  if (next && event == Event::timeout && *next <= table_now_) return fail("next_timeout not past the timeout just run");
}

void FlowSimulation::finish() {
  log_ += "final close_all\n";
  table_now_ = std::max(table_now_, now_);
  table_->close_all(now_);
  absorb(Event::close_all, std::nullopt, 0, 0);
  check_after(Event::close_all);
  if (violation_) return;
  if (table_->size() != 0 || table_->next_timeout()) return fail("close_all left flows or a timer");
  const FlowCounters& counters = table_->counters();
  std::uint64_t closed = 0;
  std::uint64_t requests = 0;
  std::uint64_t responses = 0;
  for (const auto& [id, flow] : flows_) {
    if (!flow.closed) return fail(id_text(id) + " never closed");
    requests += flow.requests;
    responses += flow.responses;
  }
  for (const auto count : counters.flows_closed) closed += count;
  if (counters.flows_opened != flows_.size() || closed != flows_.size()) return fail("flow counters disagree");
  if (counters.requests != requests || counters.responses != responses) return fail("datagram counters disagree");
  for (const DropReason reason : all_drop_reasons) {
    if (counters.drops(reason) != drops_[std::string(name(reason))]) return fail("drop counters disagree");
  }
}

}  // namespace warren::core::udp::test

// FlowTable's deadlines: one min-heap entry per live flow, re-armed lazily
// (flow_table.hpp says why), close_all and update_settings.
#include "core/udp/flow_table.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>

namespace warren::core::udp {

std::pair<sdk::TimePoint, CloseReason> FlowTable::deadline_of(const Flow& flow) const {
  std::pair<sdk::TimePoint, CloseReason> due{flow.last_activity + settings_.idle_timeout,
                                             requests_done(flow) ? CloseReason::requests : CloseReason::idle};
  if (settings_.max_lifetime > sdk::Duration::zero()) {
    const sdk::TimePoint end_of_life = flow.summary.began + settings_.max_lifetime;
    if (end_of_life <= due.first) due = {end_of_life, CloseReason::lifetime};
  }
  return due;
}

bool FlowTable::expire_if_due(const Flow& flow, sdk::TimePoint now) {
  const auto [deadline, reason] = deadline_of(flow);
  if (deadline > now) return false;
  end_flow(flow.id, reason);
  return true;
}

void FlowTable::arm(Flow& flow) {
  // A flow's deadline only moves later (activity), so an entry armed now is
  // never later than the flow's end: it comes due on time or early, and
  // handle_timeout re-arms it then.
  timers_.push_back(TimerEntry{deadline_of(flow).first, flow.id, ++flow.timer_generation});
  std::push_heap(timers_.begin(), timers_.end(), std::greater<>{});
}

void FlowTable::handle_timeout(sdk::TimePoint now) {
  now = advance(now);
  while (!timers_.empty() && timers_.front().deadline <= now) {
    std::pop_heap(timers_.begin(), timers_.end(), std::greater<>{});
    const TimerEntry entry = timers_.back();
    timers_.pop_back();
    const auto found = flows_.find(entry.flow);
    if (found == flows_.end() || found->second.timer_generation != entry.generation) {
      if (stale_timers_ > 0) --stale_timers_;
      continue;
    }
    Flow& flow = found->second;
    if (expire_if_due(flow, now)) {
      --stale_timers_;  // end_flow counted the entry just popped
    } else {
      arm(flow);
    }
  }
  prune_timers();
}

void FlowTable::prune_timers() {
  while (!timers_.empty()) {
    const TimerEntry& top = timers_.front();
    const auto found = flows_.find(top.flow);
    if (found != flows_.end() && found->second.timer_generation == top.generation) break;
    std::pop_heap(timers_.begin(), timers_.end(), std::greater<>{});
    timers_.pop_back();
    if (stale_timers_ > 0) --stale_timers_;
  }
  // Entries of ended flows wait deep in the heap for their deadline; when
  // they outnumber the live ones, rebuild so memory follows the live flows.
  if (stale_timers_ > 64 && stale_timers_ > timers_.size() / 2) {
    std::erase_if(timers_, [this](const TimerEntry& entry) {
      const auto found = flows_.find(entry.flow);
      return found == flows_.end() || found->second.timer_generation != entry.generation;
    });
    std::make_heap(timers_.begin(), timers_.end(), std::greater<>{});
    stale_timers_ = 0;
  }
}

std::optional<sdk::TimePoint> FlowTable::next_timeout() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.front().deadline;
}

void FlowTable::close_all(sdk::TimePoint now, CloseReason reason) {
  advance(now);
  std::vector<FlowId> ids;
  ids.reserve(flows_.size());
  for (const auto& [id, flow] : flows_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());  // the same order every run
  for (const FlowId id : ids) end_flow(id, reason);
  timers_.clear();
  stale_timers_ = 0;
}

void FlowTable::update_settings(sdk::TimePoint now, const FlowSettings& settings) {
  FlowSettings next = settings;
  next.open_step = settings_.open_step;
  if (auto problem = find_problem(next)) throw std::invalid_argument("udp flows: " + *problem);
  now = advance(now);
  settings_ = next;
  // A shorter idle_timeout or max_lifetime moves deadlines earlier, which
  // lazy re-arming never does (arm()): every flow gets a fresh entry.
  timers_.clear();
  stale_timers_ = 0;
  std::vector<FlowId> ids;
  ids.reserve(flows_.size());
  for (const auto& [id, flow] : flows_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (const FlowId id : ids) arm(flows_.at(id));
  handle_timeout(now);  // the flows whose new deadline has passed end now
}

}  // namespace warren::core::udp

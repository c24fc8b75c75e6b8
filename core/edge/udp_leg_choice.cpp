#include "core/edge/udp_leg_choice.hpp"

namespace warren::core {

void UdpLegChoice::add_leg(LegId leg) {
  legs_.try_emplace(leg);
  streamless_.erase(leg);
}

void UdpLegChoice::drain_leg(LegId leg) {
  if (auto it = legs_.find(leg); it != legs_.end()) it->second.draining = true;
  streamless_.erase(leg);
}

void UdpLegChoice::remove_leg(LegId leg) {
  legs_.erase(leg);
  streamless_.erase(leg);
}

void UdpLegChoice::stream_lost(LegId leg) {
  legs_.erase(leg);
  streamless_.try_emplace(leg);
}

std::vector<UdpLegChoice::LegId> UdpLegChoice::streams_to_open(sdk::TimePoint now, bool wanted) {
  std::vector<LegId> out;
  if (!wanted) return out;
  for (auto& [leg, asked] : streamless_) {
    if (asked && now - *asked < stream_retry) continue;
    asked = now;
    out.push_back(leg);
  }
  return out;
}

std::optional<UdpLegChoice::LegId> UdpLegChoice::choose() {
  std::optional<std::size_t> fewest;
  for (const auto& [id, leg] : legs_)
    if (!leg.draining && (!fewest || leg.flows < *fewest)) fewest = leg.flows;
  if (!fewest) return std::nullopt;
  // Among the legs with the fewest flows: the first after the last chosen, else the first.
  std::optional<LegId> first, after;
  for (const auto& [id, leg] : legs_) {
    if (leg.draining || leg.flows != *fewest) continue;
    if (!first) first = id;
    if (!after && last_chosen_ && id > *last_chosen_) after = id;
  }
  last_chosen_ = after ? after : first;
  return last_chosen_;
}

std::size_t UdpLegChoice::taking() const {
  std::size_t n = 0;
  for (const auto& [id, leg] : legs_) n += leg.draining ? 0 : 1;
  return n;
}

void UdpLegChoice::flow_placed(LegId leg) {
  if (auto it = legs_.find(leg); it != legs_.end()) ++it->second.flows;
}

void UdpLegChoice::flow_ended(LegId leg) {
  if (auto it = legs_.find(leg); it != legs_.end() && it->second.flows > 0) --it->second.flows;
}

bool UdpLegChoice::draining(LegId leg) const {
  auto it = legs_.find(leg);
  return it != legs_.end() && it->second.draining;
}

std::size_t UdpLegChoice::flows_on(LegId leg) const {
  auto it = legs_.find(leg);
  return it == legs_.end() ? 0 : it->second.flows;
}

}  // namespace warren::core

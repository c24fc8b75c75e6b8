// SimReplica at the edges: discovery's answers (and how often the
// supervisor may ask), and registrations admitted by each edge's real
// TunnelRegistry, with the replica's connector id.

#include "sim_world.hpp"

#include <algorithm>

namespace warren::core::supervisor::test {

using namespace std::chrono_literals;
using namespace sim;
using sdk::errc;

// Discovery is asked again only for a reason, and never in a busy loop:
// one lookup at a time; after a failed lookup with nothing known, not
// before the backoff it scheduled; otherwise only when a leg failed since
// the last answer or the answer is older than address_refresh.
void SimReplica::execute_resolve() {
  ++stats_.resolves;
  if (resolve_in_flight_) return violate("Resolve while a lookup is in flight");
  if (resolve_not_before_ && now_ < *resolve_not_before_)
    return violate("discovery retried " + sdk::format_duration(*resolve_not_before_ - now_) +
                   " before its backoff ran out");
  if (last_answer_at_ && !resolve_not_before_ && !leg_failed_since_answer_ &&
      now_ - *last_answer_at_ < scenario_.config.address_refresh)
    return violate("Resolve with no leg failure since the last answer (" +
                   sdk::format_duration(now_ - *last_answer_at_) + " ago) and no refresh due: a busy loop");
  resolve_not_before_.reset();
  resolve_in_flight_ = true;
  std::erase_if(resolve_times_, [&](sdk::TimePoint t) { return now_ - t >= 1min; });
  resolve_times_.push_back(now_);
  stats_.max_resolves_per_minute = std::max<std::uint64_t>(stats_.max_resolves_per_minute, resolve_times_.size());

  if (chance(scenario_.resolve_failure_rate)) {
    auto e = event(resolve_failed, latency(5ms, 300ms));
    e->ec = chance(0.5) ? sdk::error_code(errc::discovery_failed) : sdk::error_code(errc::no_edges);
    schedule(e);
    return;
  }
  // Discovery answers what DNS says now, in any order: indexes must not be
  // trusted across lookups. An empty answer is a lookup that found nothing.
  auto e = event(resolved, latency(5ms, 300ms));
  for (std::size_t i = 0; i < edges_.size(); ++i)
    if (net_.in_dns[i]) e->addresses.push_back(edges_[i]);
  if (!e->addresses.empty())
    std::rotate(e->addresses.begin(),
                e->addresses.begin() + static_cast<std::ptrdiff_t>(random_.next_u64() % e->addresses.size()),
                e->addresses.end());
  schedule(e);
}

// The edge's own rule, from the real TunnelRegistry: a leg is keyed by
// (connector id, index), and replace_existing replaces only the same
// connector's leg, so replicas never evict each other.
void SimReplica::admit_at_edge(const Register& a, Event& outcome) {
  auto& c = *legs_[a.leg];
  protocol::RegisterConnection request;
  request.tunnel_id = "sim";
  request.token = "sim-token";
  request.conn_index = static_cast<std::uint8_t>(a.leg);
  request.replace_existing = a.replace_existing;
  request.connector_id = connector_id_;
  auto answer = net_.registries[c.edge]->register_leg(c.attempt, request, now_, net_.edge_random);
  if (auto* refused = std::get_if<protocol::Rejected>(&answer)) {
    outcome.kind = rejected;
    outcome.ec = refused->code;
    outcome.fatal = refused->fatal;
    outcome.retry_after = refused->retry_after;
    // Only this leg's own earlier connection, closed but not yet noticed by
    // the edge, may hold the slot; anything else means the edge mixed up replicas.
    bool own_stale = refused->code == errc::duplicate_registration &&
                     std::any_of(net_.owners.begin(), net_.owners.end(), [&](const auto& held) {
                       const auto& o = held.second;
                       return held.first != c.attempt && o.replica == index_ && o.leg == a.leg && o.edge == c.edge &&
                              o.epoch == net_.edge_epoch[c.edge];
                     });
    // The return's order (Unregister, its ack, then Register) must satisfy the
    // real registry: the old connection's index is free once it drains.
    if (c.was_probe && refused->code == errc::duplicate_registration)
      return violate("the edge refused a returning probe: " + refused->message);
    if (own_stale) {
      ++stats_.stale_slot_refusals;
      return;
    }
    return violate("edge " + std::to_string(c.edge) + " refused leg " + std::to_string(a.leg) + " (" +
                   std::string(sdk::name(refused->code)) + "): " + refused->message);
  }
  const auto& admission = std::get<Admission>(answer);
  ++stats_.edge_admissions;
  c.at_edge = true;
  c.edge_epoch = net_.edge_epoch[c.edge];
  net_.owners[c.attempt] = {index_, a.leg, c.edge, c.edge_epoch};
  if (admission.replaced) {
    ++stats_.edge_replacements;
    auto owner = net_.owners.find(*admission.replaced);
    if (owner == net_.owners.end()) return violate("the edge replaced a leg it no longer had");
    const auto replaced = owner->second;
    net_.owners.erase(owner);
    if (replaced.replica != index_ || replaced.leg != a.leg)
      return violate("replica " + connector_id_ + "'s leg " + std::to_string(a.leg) + " evicted leg " +
                     std::to_string(replaced.leg) + " of replica-" + std::to_string(replaced.replica));
  }
  outcome.interval = scenario_.edge_interval;
}

// The connection ended: the edge (if it is the same process) forgets the leg.
// Sometimes the edge misses the close (the packet was lost) and keeps the
// leg until its own idle timeout: a reconnect then finds its old slot held.
void SimReplica::forget_at_edge(const Connection& c) {
  if (!c.at_edge || c.edge_epoch != net_.edge_epoch[c.edge]) return;
  if (c.state != Connection::State::unregistering && chance(0.3)) {
    ++stats_.closes_missed_by_edge;
    auto e = event(edge_notices_close, latency(500ms, 10s));
    e->edge = c.edge;
    e->attempt = c.attempt;
    e->seq = c.edge_epoch;
    schedule(e);
    return;
  }
  net_.registries[c.edge]->remove_leg(c.attempt, now_);
  net_.owners.erase(c.attempt);
}

}  // namespace warren::core::supervisor::test

// SimWorld as the shell: carries out each action, and checks on the way
// that the supervisor only asks for what its rules allow.

#include "sim_world.hpp"

#include <algorithm>
#include <set>

namespace warren::core::supervisor::test {

using namespace std::chrono_literals;
using namespace sim;
using sdk::errc;

namespace {

std::optional<std::size_t> edge_index(const std::vector<sdk::EdgeAddress>& edges, const sdk::EdgeAddress& a) {
  for (std::size_t i = 0; i < edges.size(); ++i)
    if (same_endpoint(edges[i], a)) return i;
  return std::nullopt;
}

}  // namespace

void SimReplica::execute(const SupervisorAction& action) {
  const auto& config = scenario_.config;
  if (std::holds_alternative<Resolve>(action)) {
    execute_resolve();
  } else if (auto* dial = std::get_if<Dial>(&action)) {
    if (dial->probe) execute_probe(*dial);
    else execute_dial(*dial);
  } else if (auto* retire = std::get_if<RetireConnection>(&action)) {
    execute_retire(*retire);
  } else if (auto* reg = std::get_if<Register>(&action)) {
    execute_register(*reg);
  } else if (auto* beat = std::get_if<SendHeartbeat>(&action)) {
    if (beat->which == LegConnection::retiring) {
      // The edge holds a draining connection to its heartbeats; its acks do not matter.
      auto& r = retiring_.at(beat->leg);
      if (!r) return violate("a heartbeat on a retiring connection that does not exist");
      if (r->at_edge && r->edge_epoch == net_.edge_epoch[r->edge] && !r->silent_since && edge_up_[r->edge])
        net_.registries[r->edge]->heard_from(r->attempt, now_);
      return;
    }
    auto& c = legs_.at(beat->leg);
    if (!c || (c->state != Connection::State::registered && c->state != Connection::State::unregistering))
      return violate("a heartbeat on a leg that is not registered");
    if (beat->sequence <= last_heartbeat_[beat->leg]) return violate("heartbeat sequence did not increase");
    last_heartbeat_[beat->leg] = beat->sequence;
    if (c->silent_since || !edge_up_[c->edge]) return;
    if (c->at_edge && c->edge_epoch == net_.edge_epoch[c->edge]) net_.registries[c->edge]->heard_from(c->attempt, now_);
    if (chance(scenario_.ack_loss)) return;
    auto e = event(ack, latency(1ms, 150ms), beat->leg);
    e->seq = beat->sequence;
    schedule(e);
  } else if (auto* close_leg = std::get_if<CloseLeg>(&action)) {
    if (close_leg->which == LegConnection::probe) {
      if (close_leg->leg >= probes_.size() || !probes_[close_leg->leg]) return violate("CloseLeg for a probe that does not exist");
      if (!shutdown_requested_ && !fatal_this_step_) ++stats_.probes_cut_short;
      probes_[close_leg->leg].reset();  // never admitted at the edge
    } else if (close_leg->which == LegConnection::retiring) {
      close_retiring(close_leg->leg);
    } else {
      close(close_leg->leg, close_leg->reason);
    }
  } else if (auto* unreg = std::get_if<Unregister>(&action)) {
    auto& c = legs_.at(unreg->leg);
    // Outside a shutdown only a return unregisters: the probe connected.
    bool for_return = probes_.at(unreg->leg) && probes_[unreg->leg]->state == Connection::State::connected;
    if (!shutdown_requested_ && !for_return) return violate("Unregister before shutdown, and no probe connected");
    if (!c || c->state != Connection::State::registered) return violate("Unregister for a leg that is not registered");
    if (unreg->grace_period != (for_return && !shutdown_requested_ ? config.return_drain : config.grace_period))
      return violate("Unregister with the wrong grace period");
    c->state = Connection::State::unregistering;
    must_unregister_.erase(unreg->leg);
    ++stats_.unregisters;
    if (c->at_edge && c->edge_epoch == net_.edge_epoch[c->edge] && !c->silent_since)
      net_.registries[c->edge]->drain_leg(c->attempt, now_);
    if (!c->silent_since && edge_up_[c->edge]) schedule(event(unregister_acked, latency(1ms, 100ms), unreg->leg));
  } else if (std::holds_alternative<StopAcceptingStreams>(action)) {
    if (!shutdown_requested_) return violate("StopAcceptingStreams before shutdown");
    streams_stopped_ = true;
  } else if (auto* retry = std::get_if<RetryScheduled>(&action)) {
    if (retry->leg) {
      leg_failed_since_answer_ = true;
    } else {
      // Discovery's own backoff: the next lookup waits this long.
      if (!resolve_backoff_pending_) return violate("a discovery retry scheduled with no failed lookup to retry");
      resolve_backoff_pending_ = false;
      resolve_not_before_ = now_ + retry->delay;
    }
    if (retry->leg && retry->reason == errc::duplicate_registration) {
      // A slot held by a live connection: the edge's pace (capped, up to
      // 25 % jitter above it), and the backoff policy is not asked.
      auto floor = retry_floor_.at(*retry->leg);
      if (floor && *floor > sdk::Duration::zero()) {
        auto pace = std::min(*floor, config.max_retry_after);
        if (retry->delay < pace || retry->delay > pace * 1.25)
          return violate("a held slot retried after " + sdk::format_duration(retry->delay) +
                         ", not at the edge's pace");
        ++stats_.held_slot_retries;
        retry_at_[*retry->leg] = now_ + retry->delay;
        return;
      }
    }
    if (backoff_->answers.empty()) return violate("RetryScheduled without asking the backoff policy");
    auto answer = backoff_->answers.front();
    backoff_->answers.pop_front();
    if (!answer) return violate("RetryScheduled although the policy gave up");
    if (*answer < sdk::Duration::zero() || *answer > backoff_->max_delay())
      return violate("the backoff policy answered outside its own bounds");
    // Exactly the policy's delay (within its bounds), raised to the edge's
    // retry-after (capped) for a leg that was just refused.
    auto expected = std::clamp(*answer, sdk::Duration::zero(), backoff_->max_delay());
    if (retry->leg) {
      auto floor = retry_floor_.at(*retry->leg);
      if (floor) {
        auto capped = std::clamp(*floor, sdk::Duration::zero(), config.max_retry_after);
        if (capped > expected) ++stats_.retry_floors;
        expected = std::max(expected, capped);
      }
      retry_at_[*retry->leg] = now_ + retry->delay;
    } else {
      // Discovery is asked again at most discovery_retry_max apart.
      expected = std::min(expected, config.discovery_retry_max);
    }
    if (retry->delay < sdk::Duration::zero()) return violate("a negative delay");
    if (retry->delay != expected)
      return violate("delay " + sdk::format_duration(retry->delay) + " is not the expected " +
                     sdk::format_duration(expected));
  } else if (auto* done = std::get_if<Exit>(&action)) {
    check_exit(*done);
    for (auto* conns : {&legs_, &probes_, &retiring_})
      for (auto& c : *conns)
        if (c) {
          forget_at_edge(*c);
          c.reset();  // the process is gone
        }
  }
}

void SimReplica::check_exit(const Exit& done_ref) {
  const auto* done = &done_ref;
  const auto& config = scenario_.config;
  exit_code_ = done->code;
  if (done->code >= 0 && done->code < 4) ++stats_.exits[done->code];
  bool fatal_exit = done->code == 2 || done->code == 3;
  if (fatal_exit != fatal_delivered_)
    return violate("exit code " + std::to_string(done->code) +
                   " but fatal error seen: " + std::to_string(fatal_delivered_));
  if (fatal_exit && done->code != exit_code_for_fatal(done->reason))
    return violate("wrong exit code for the fatal error");
  if (done->code == 0) {
    if (!shutdown_requested_) return violate("Exit 0 without a shutdown");
    if (!must_unregister_.empty()) return violate("Exit 0 before every live leg was unregistered");
    // Honest: 0 only when every stream finished, the grace ran out, or the user insisted.
    if (cut_by_loss_ > 0 && !done->grace_expired && !forced_stop_)
      return violate("Exit 0 although streams were cut when a draining leg was lost");
  }
  if (done->grace_expired) {
    ++stats_.graces_expired;
    if (now_ - shutdown_time_ < config.grace_period) return violate("grace_expired before the grace period");
  }
  if (shutdown_requested_ && (done->code == 0 || done->code == 1) && done->streams_cut != cut_by_loss_ + cut_at_exit_)
    return violate("Exit says " + std::to_string(done->streams_cut) + " streams were cut, the world saw " +
                   std::to_string(cut_by_loss_ + cut_at_exit_));
  if (done->code == 1 && shutdown_requested_ && cut_by_loss_ > 0) {
    ++stats_.drains_cut;
  } else if (done->code == 1) {
    bool gave_up = !backoff_->answers.empty() && !backoff_->answers.front();
    if (gave_up) backoff_->answers.pop_front();
    if (!config.no_reconnect && !gave_up)
      return violate("Exit 1 without --no-reconnect and without the policy giving up");
  }
  if (fatal_exit) {
    // A fatal error stops every leg: each connection closed (CloseLeg) before
    // the Exit, no leg left in a live phase, no timer left to fire.
    ++stats_.fatal_exits_checked;
    for (unsigned i = 0; i < legs_.size(); ++i)
      if (legs_[i] || probes_[i] || retiring_[i])
        return violate("a fatal error (" + std::string(sdk::name(done->reason)) + ") left leg " + std::to_string(i) +
                       "'s connection open");
    for (const auto& leg : supervisor_->legs())
      if (leg.phase != LegPhase::closed) return violate("a fatal error left a leg in a live phase");
    if (supervisor_->next_timeout()) return violate("a fatal error left a timer running");
  }
}

void SimReplica::execute_dial(const Dial& a) {
  const auto& config = scenario_.config;
  if (a.leg >= legs_.size()) return violate("Dial for a leg that does not exist");
  if (streams_stopped_) return violate("Dial after StopAcceptingStreams");
  if (legs_[a.leg]) return violate("Dial for a leg that already has a connection");
  if (a.leg > 0 && !leg0_registered_once_)
    return violate("leg " + std::to_string(a.leg) + " dialed before leg 0 registered");
  if (retry_at_[a.leg] && now_ < *retry_at_[a.leg]) return violate("Dial before the backoff delay ran out");
  if (a.transport >= config.transport_count) return violate("Dial with a transport out of range");
  auto edge = edge_index(edges_, a.address);
  if (!edge || !edge_index(last_answer_, a.address))
    return violate("Dial to " + a.address.to_string() + ", not in discovery's latest answer");
  if (!net_.in_dns[*edge]) ++stats_.stale_dials;  // DNS dropped it since the answer

  std::set<std::size_t> held;  // by the other legs
  for (unsigned i = 0; i < legs_.size(); ++i)
    if (i != a.leg && legs_[i]) held.insert(legs_[i]->edge);
  std::vector<std::size_t> free;  // known to the supervisor, held by no other leg
  for (const auto& known : last_answer_)
    if (auto i = edge_index(edges_, known); i && !held.count(*i)) free.push_back(*i);
  // Legs on distinct addresses whenever there are enough: a leg shares a held
  // address while another is free only when every free one failed within
  // give_back_after (ip-rotation prefers a live edge to a dead one).
  auto failed_lately = [&](std::size_t i) {
    if (!rotation_) return false;
    const auto window = rotation_->config().give_back_after;
    return std::any_of(rotation_->counted.begin(), rotation_->counted.end(),
                       [&](const auto& f) { return same_endpoint(f.address, edges_[i]) && now_ - f.at < window; });
  };
  const bool every_free_failed = std::all_of(free.begin(), free.end(), failed_lately);
  if (held.count(*edge) && !free.empty() && every_free_failed) ++stats_.shared_live_edge;
  if (!scenario_.custom_address_policy && !free.empty() && held.count(*edge) && !every_free_failed)
    return violate("leg " + std::to_string(a.leg) + " dialed " + edges_[*edge].to_string() +
                   ", which another leg holds, while " + edges_[free.front()].to_string() + " was free");
  if (rotation_) {
    check_rotation(a, *edge, held);
    // No leg stays on an address past max_edge_addr_retries counted failures
    // there while another address is free (healthy or not).
    // The row: the leg's dials to one address, each ending in a counted failure.
    const auto limit = rotation_->config().max_edge_addr_retries;
    if (streak_address_[a.leg] && !same_endpoint(*streak_address_[a.leg], a.address)) {
      streak_address_[a.leg].reset();
      streak_[a.leg] = 0;
    }
    if (streak_address_[a.leg]) {
      if (streak_[a.leg] >= limit) ++stats_.retry_streaks_at_limit;
      for (std::size_t other : free)
        if (other != *edge && streak_[a.leg] >= limit)
          return violate("leg " + std::to_string(a.leg) + " stays on " + a.address.to_string() + " after " +
                         std::to_string(streak_[a.leg]) + " counted failures there (max_edge_addr_retries " +
                         std::to_string(limit) + ") while " + edges_[other].to_string() + " was free");
    }
  }

  if (config.transport_count > 1) {
    if (a.transport == 0 && dial_failures_on_quic_[a.leg] >= scenario_.fallback.max_failures)
      return violate("still dialing transport 0 after max_dial_failures failures");
    if (a.transport != 0) {
      if (dial_failures_on_quic_[a.leg] > 0) ++stats_.fallbacks;
      dial_failures_on_quic_[a.leg] = 0;
    }
  }

  auto c = std::make_unique<Connection>();
  c->attempt = ++net_.next_attempt;
  c->edge = *edge;
  c->transport = a.transport;
  c->since = now_;
  legs_[a.leg] = std::move(c);
  auto& conn = legs_[a.leg];

  auto fail = [&](sdk::error_code ec, sdk::Duration lo, sdk::Duration hi) {
    auto e = event(dial_failed, latency(lo, hi), a.leg);
    e->ec = ec;
    schedule(e);
  };
  if (!edge_up_[*edge]) {
    // A dead edge: the dial hangs (until the connect timeout), or fails fast,
    // refused or ICMP-unreachable.
    if (edge_silent_[*edge]) {
      conn->silent_since = now_;
      ++stats_.dead_dial_hung;
    } else if (chance(scenario_.dead_edge_unreachable)) {
      fail(errc::peer_unreachable, 1ms, 100ms);
      ++stats_.dead_dial_unreachable;
    } else {
      fail(errc::dial_failed, 1ms, 100ms);
      ++stats_.dead_dial_failed;
    }
  } else if (quic_blocked_now() && a.transport == 0) {
    if (chance(0.2))
      conn->silent_since = now_;
    else
      fail(errc::quic_broken, 100ms, 3s);
  } else if (chance(0.001)) {
    fail(errc::certificate_mismatch, 5ms, 100ms);
  } else if (chance(0.05)) {
    fail(chance(0.5) ? sdk::error_code(errc::handshake_timeout) : sdk::error_code(errc::tls_failed), 5ms, 500ms);
  } else {
    schedule(event(dial_ok, latency(5ms, 300ms), a.leg));
  }
}

// After a counted failure a leg moves on: it redials that address only when
// no other free address is healthy (no counted failure, by any leg, within
// give_back_after). The world's view of failures is a superset of the
// policy's (which forgets an address that worked), so this never blames a
// choice the rules allow.
void SimReplica::check_rotation(const Dial& a, std::size_t edge, const std::set<std::size_t>& held) {
  auto found = rotation_->last.find(&supervisor_->legs()[a.leg].address);
  if (found == rotation_->last.end()) return;
  const auto failure = found->second;
  rotation_->last.erase(found);  // one Dial answers one error
  if (!failure.counted) {
    // An uncounted error (the edge answered: busy, rate-limited) ends the row.
    streak_address_[a.leg].reset();
    streak_[a.leg] = 0;
    return;
  }
  ++stats_.counted_failures;
  if (streak_address_[a.leg] && same_endpoint(*streak_address_[a.leg], failure.address)) {
    ++streak_[a.leg];
  } else {
    streak_address_[a.leg] = failure.address;
    streak_[a.leg] = 1;
  }
  if (!same_endpoint(failure.address, edges_[edge])) {
    ++stats_.rotations_away;
    return;
  }
  const auto window = rotation_->config().give_back_after;
  for (const auto& known : last_answer_) {
    const std::size_t other = *edge_index(edges_, known);
    if (other == edge || held.count(other)) continue;
    bool unhealthy = std::any_of(rotation_->counted.begin(), rotation_->counted.end(), [&](const auto& f) {
      return same_endpoint(f.address, edges_[other]) && now_ - f.at < window;
    });
    if (!unhealthy)
      return violate("leg " + std::to_string(a.leg) + " redialed " + edges_[edge].to_string() +
                     " after a counted failure there, while " + edges_[other].to_string() + " was free and healthy");
  }
}

void SimReplica::execute_register(const Register& a) {
  if (a.leg >= legs_.size()) return violate("Register for a leg that does not exist");
  auto& c = legs_[a.leg];
  if (streams_stopped_) return violate("Register after StopAcceptingStreams");
  if (!c || c->state != Connection::State::connected) return violate("Register on a leg whose dial has not succeeded");
  // A promoted probe registers without replace_existing: the edge freed the
  // index when the old connection unregistered, and nothing is evicted.
  const bool expected = promoted_[a.leg] ? false : register_sent_[a.leg];
  if (a.replace_existing != expected)
    return violate(std::string("replace_existing should be ") + (expected ? "true" : "false"));
  register_sent_[a.leg] = true;
  promoted_[a.leg] = false;
  if (c->silent_since) return;
  if (!edge_up_[c->edge]) {
    if (edge_silent_[c->edge]) {
      c->silent_since = now_;
    } else {
      auto e = event(lost, latency(1ms, 50ms), a.leg);
      e->ec = errc::peer_closed;
      schedule(e);
    }
    return;
  }
  auto e = event(registered, latency(5ms, 200ms), a.leg);
  if (scenario_.auth_fails) {
    e->kind = rejected;
    e->ec = errc::auth_failed;
    e->fatal = true;
  } else if (chance(scenario_.reject_rate)) {
    e->kind = rejected;
    double pick = random_.uniform01();
    if (pick < 0.5) {
      e->ec = errc::rate_limited;
      e->retry_after = latency(0s, 90s);
    } else if (pick < 0.8) {
      e->ec = errc::tunnel_limit;
    } else {
      e->ec = errc::duplicate_registration;
      if (chance(0.5)) e->retry_after = latency(100ms, 2s);  // held by a live connection
    }
  } else if (chance(0.002)) {
    e->kind = rejected;
    e->ec = errc::tunnel_unknown;  // fatal by its code, without the flag
  } else {
    admit_at_edge(a, *e);
  }
  schedule(e);
}

void SimReplica::close(unsigned leg, const sdk::error_code& reason) {
  if (leg >= legs_.size()) return violate("CloseLeg for a leg that does not exist");
  auto& c = legs_[leg];
  if (!c) return violate("CloseLeg for a leg with no connection");
  if (reason == errc::handshake_timeout) {
    ++stats_.connect_timeouts;
    if (c->state == Connection::State::dialing && c->transport == 0) ++dial_failures_on_quic_[leg];
  }
  if (reason == errc::heartbeat_timeout) ++stats_.heartbeat_timeouts;
  if (c->state == Connection::State::unregistering) {
    // A draining leg closes when the edge acknowledged and every stream it
    // opened arrived and finished; or when the grace period ran out, its
    // edge fell silent, or the user insisted — then its open streams are cut.
    bool grace_over = now_ - shutdown_time_ >= scenario_.config.grace_period;
    bool timed_out = reason == errc::heartbeat_timeout;
    if (!c->drained() && !grace_over && !timed_out && !forced_stop_)
      return violate("a draining leg closed before its streams drained and the grace period ran out");
    if (c->drained()) ++stats_.legs_drained;
    (timed_out ? cut_by_loss_ : cut_at_exit_) += c->open;
  }
  forget_at_edge(*c);
  c.reset();
}

}  // namespace warren::core::supervisor::test

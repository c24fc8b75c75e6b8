// Supervisor: one leg's attempts — when it dials, where, over which
// transport, and what happens when an attempt or a live connection fails.

#include "core/supervisor/supervisor.hpp"

#include <algorithm>

namespace warren::core::supervisor {

using sdk::errc;

namespace {

// After a stateless reset the next dial comes within this window: the edge
// is up, so the leg need not wait out a backoff delay (issue 11: traffic
// again within 1 s of an edge restart).
constexpr Duration kResetRetryWindow = std::chrono::milliseconds(250);

}  // namespace

void Supervisor::start_other_legs(TimePoint now) {
  for (unsigned i = 1; i < legs_.size(); ++i) {
    auto& leg = legs_[i];
    if (leg.phase != LegPhase::idle) continue;
    // Start on the transport leg 0 registered over: when QUIC was blocked
    // for leg 0, each later leg would otherwise pay its own handshake timeout
    // before falling back. Their probes bring them back like leg 0's.
    leg.fallback.current = legs_[0].fallback.current;
    Duration offset = config_.stagger * i;
    if (offset <= Duration::zero()) {
      begin_attempt(now, i);
    } else {
      leg.phase = LegPhase::scheduled;
      leg.deadline = now + offset;
    }
  }
}

void Supervisor::begin_attempt(TimePoint now, unsigned leg) {
  bool stale = !resolved_at_ || now - *resolved_at_ >= config_.address_refresh;
  if (addresses_.empty() || stale) {
    legs_[leg].phase = LegPhase::awaiting_addresses;
    request_resolve();
    return;
  }
  dial(now, leg);
}

void Supervisor::dial(TimePoint now, unsigned leg) {
  auto& l = legs_[leg];
  const sdk::AddressState before = l.address;
  sdk::AddressChoice choice = choose_address(now, leg);
  // Every address is used up (held or recently failed): ask discovery again,
  // unless its answer is already newer than this leg's last failure.
  if (choice.exhausted && l.last_failure && (!resolved_at_ || *resolved_at_ < *l.last_failure)) {
    l.address = before;  // the choice is not taken: choose again on the fresh list
    l.phase = LegPhase::awaiting_addresses;
    request_resolve();
    return;
  }
  if (l.fallback.current >= config_.transport_count) l.fallback.current = 0;
  auto moved = note_dial(now, leg, addresses_[choice.index], l.fallback.current);
  l.edge = addresses_[choice.index];
  l.phase = LegPhase::dialing;
  l.deadline = now + config_.connect_timeout;
  l.streams_arrived = 0;
  l.streams_open = 0;
  l.streams_opened_by_edge.reset();
  actions_.emplace_back(Dial{leg, addresses_[choice.index], l.fallback.current, std::move(moved)});
}

void Supervisor::note(TimePoint now, unsigned leg, LegEvent event, sdk::error_code error, Duration delay) {
  const auto& l = legs_[leg];
  history_[leg].record({.at = now, .event = event, .address = l.edge, .transport = l.fallback.current,
                        .error = error, .delay = delay});
}

std::optional<LegMove> Supervisor::note_dial(TimePoint now, unsigned leg, const sdk::EdgeAddress& to,
                                             std::size_t transport) {
  auto& h = history_[leg];
  std::optional<LegMove> move;
  const sdk::error_code why = h.last_error();
  if (h.last_address() && !same_endpoint(*h.last_address(), to)) {
    h.record({.at = now, .event = LegEvent::moved_address, .address = to, .transport = transport, .error = why,
              .from = h.last_address()});
    move = LegMove{h.entries().back().from, std::nullopt, why};
  }
  auto before = h.last_transport();
  sdk::error_code transport_why = why;
  if (!before && transport != 0) {
    // A first dial on a fallback transport: leg 0's move, taken over at
    // start (start_other_legs); said once for this leg too, with its reason.
    before = 0;
    transport_why = history_[0].last_error();
  }
  if (before && *before != transport) {
    h.record({.at = now, .event = LegEvent::moved_transport, .address = to, .transport = transport,
              .error = transport_why, .from_transport = *before});
    if (!move) move = LegMove{std::nullopt, std::nullopt, transport_why};
    move->from_transport = *before;
  }
  h.record({.at = now, .event = LegEvent::dialing, .address = to, .transport = transport});
  return move;
}

sdk::AddressChoice Supervisor::choose_address(TimePoint now, unsigned leg) {
  auto& l = legs_[leg];
  const std::size_t n = addresses_.size();
  std::vector<std::size_t> taken;  // held by the other legs' connections
  for (unsigned i = 0; i < legs_.size(); ++i) {
    if (i == leg || !holds_connection(legs_[i].phase) || !legs_[i].edge) continue;
    for (std::size_t a = 0; a < n; ++a)
      if (same_endpoint(addresses_[a], *legs_[i].edge)) taken.push_back(a);
  }
  std::sort(taken.begin(), taken.end());
  taken.erase(std::unique(taken.begin(), taken.end()), taken.end());

  sdk::AddressChoice choice = address_->choose(l.address, address_health_, addresses_, leg, taken, now, random_);
  if (choice.index >= n) choice.index = 0;  // a policy out of range gets the best-ranked address
  l.address.current = choice.index;
  return choice;
}

void Supervisor::fail_leg(TimePoint now, unsigned leg, const Failure& failure) {
  auto& l = legs_[leg];
  if (failure.close) actions_.emplace_back(CloseLeg{leg, failure.error});
  // A probe needs the leg it probes for; a retiring connection goes on draining.
  if (l.probe.phase != ProbePhase::none) actions_.emplace_back(CloseLeg{leg, failure.error, LegConnection::probe});
  l.probe = {};
  l.next_probe.reset();
  if (phase_ == RunPhase::draining) count_cut(l, failure.error);
  l.streams_open = 0;  // the connection's streams end with it
  l.phase = LegPhase::closed;
  l.last_failure = now;
  if (phase_ == RunPhase::draining) return finish_if_drained();
  if (leg >= config_.ha_connections) return;  // a reload let it go: no retry

  if (failure.fatal || sdk::is_fatal(failure.error)) return finish(exit_code_for_fatal(failure.error), failure.error);
  if (config_.no_reconnect) return finish(1, failure.error);
  schedule_retry(now, leg, failure);
}

void Supervisor::schedule_retry(TimePoint now, unsigned leg, const Failure& failure) {
  auto& l = legs_[leg];
  if (failure.error == errc::duplicate_registration && failure.retry_after > Duration::zero()) {
    // The edge is fine; the leg's slot is held by a live connection (in a
    // rolling restart, the old connector until it unregisters). Retry at the
    // edge's pace, jittered, with no backoff growth and the same address, so
    // this connector takes over about retry_after after the old one leaves.
    Duration pace = std::min(failure.retry_after, config_.max_retry_after);
    return retry_same_edge(now, leg, failure.error, pace * random_.uniform(1.0, 1.25));
  }
  if (failure.error == errc::stateless_reset && failure.where == FailedIn::session) {
    // The edge answered for a connection it no longer knows: it restarted
    // and is up again. Dial the same address soon, with no backoff growth;
    // jittered so a restarted edge's connectors do not all arrive at once.
    // A dial that then fails backs off as usual.
    return retry_same_edge(now, leg, failure.error, kResetRetryWindow * random_.uniform(0.0, 1.0));
  }
  const std::size_t attempted_transport = l.fallback.current;  // the history names the failed attempt's
  l.address.connectivity_error = false;
  if (l.edge) address_->on_error(l.address, address_health_, *l.edge, failure.error, now);
  // Dial failures count toward fallback; so does a session failure the
  // address policy calls a connectivity error (every address failed).
  l.fallback.connectivity_error = l.address.connectivity_error;
  if (failure.where == FailedIn::dial || l.fallback.connectivity_error) {
    std::size_t next = fallback_->on_error(l.fallback, failure.error, config_.transport_count, now);
    l.fallback.current = next < config_.transport_count ? next : 0;
  }

  auto delay = backoff_->next_delay(l.backoff, now, random_);
  if (!delay) return finish(1, failure.error);  // the policy gave up
  // The edge's retry-after is a floor (capped: a hostile edge must not park
  // us for weeks); the policy's own bound caps everything else.
  Duration floor = std::clamp(failure.retry_after, Duration::zero(), config_.max_retry_after);
  Duration d = std::max(std::clamp(*delay, Duration::zero(), backoff_->max_delay()), floor);
  l.phase = LegPhase::scheduled;
  l.deadline = now + d;
  history_[leg].record({.at = now, .event = LegEvent::retry_scheduled, .address = l.edge,
                        .transport = attempted_transport, .error = failure.error, .delay = d});
  actions_.emplace_back(RetryScheduled{leg, d, failure.error});
}

void Supervisor::retry_same_edge(TimePoint now, unsigned leg, const sdk::error_code& error, std::chrono::duration<double> after) {
  auto d = std::chrono::duration_cast<Duration>(after);
  auto& l = legs_[leg];
  l.phase = LegPhase::scheduled;
  l.deadline = now + d;
  note(now, leg, LegEvent::retry_scheduled, error, d);
  actions_.emplace_back(RetryScheduled{leg, d, error});
}

void Supervisor::run_leg_timers(TimePoint now, unsigned leg) {
  auto& l = legs_[leg];
  switch (l.phase) {
    case LegPhase::scheduled:
      if (l.deadline <= now) begin_attempt(now, leg);
      break;
    case LegPhase::dialing:
    case LegPhase::registering:
      if (l.deadline <= now) {
        FailedIn where = l.phase == LegPhase::dialing ? FailedIn::dial : FailedIn::session;
        note(now, leg, where == FailedIn::dial ? LegEvent::dial_failed : LegEvent::lost, errc::handshake_timeout);
        fail_leg(now, leg, {errc::handshake_timeout, where, false, true, {}});
      }
      break;
    case LegPhase::registered:
    case LegPhase::unregistering:
      if (l.phase == LegPhase::unregistering && phase_ == RunPhase::running && l.deadline <= now) {
        // A leg a reload let go: its grace period is over, its streams are cut.
        actions_.emplace_back(CloseLeg{leg, errc::shutting_down});
        l.phase = LegPhase::closed;
        l.streams_open = 0;
        rejoin_if_wanted(now, leg);
      } else if (l.ack_deadline <= now) {
        note(now, leg, LegEvent::lost, errc::heartbeat_timeout);
        fail_leg(now, leg, {errc::heartbeat_timeout, FailedIn::session, false, true, {}});
      } else if (l.next_heartbeat <= now) {
        actions_.emplace_back(SendHeartbeat{leg, ++l.last_sent});
        l.next_heartbeat = now + l.heartbeat_interval;
      }
      break;
    default: break;
  }
}

}  // namespace warren::core::supervisor

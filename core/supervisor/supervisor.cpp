// Supervisor: the run as a whole (start, discovery, shutdown, timers) and
// the events the shell reports. Per-leg attempts and failures live in
// supervisor_legs.cpp.

#include "core/supervisor/supervisor.hpp"

#include <algorithm>
#include <stdexcept>

namespace warren::core::supervisor {

using sdk::errc;

int exit_code_for_fatal(const sdk::error_code& error) {
  if (error == errc::config_invalid || error == errc::plugin_mismatch || error == errc::remote_not_allowed) return 2;
  return 3;
}

namespace {

SupervisorConfig checked(SupervisorConfig config) {
  if (auto problem = find_problem(config)) throw std::invalid_argument("supervisor config: " + *problem);
  return config;
}

const sdk::AddressPolicy* required(const sdk::AddressPolicy* address) {
  if (!address) throw std::invalid_argument("supervisor: no address policy (the bundled ip-rotation plays the role)");
  return address;
}

const sdk::FallbackPolicy* required(const sdk::FallbackPolicy* fallback) {
  if (!fallback) throw std::invalid_argument("supervisor: no fallback policy (the bundled fallback plays the role)");
  return fallback;
}

}  // namespace

Supervisor::Supervisor(SupervisorConfig config, const sdk::BackoffPolicy& backoff, sdk::RandomSource& random,
                       const sdk::AddressPolicy* address, const sdk::FallbackPolicy* fallback)
    : config_(checked(config)),
      backoff_(&backoff),
      random_(random),
      address_(required(address)),
      fallback_(required(fallback)),
      legs_(config_.ha_connections),
      history_(config_.ha_connections) {}

LegState* Supervisor::live_leg(unsigned leg) {
  if (phase_ == RunPhase::created || phase_ == RunPhase::finished || leg >= legs_.size()) return nullptr;
  return &legs_[leg];
}

void Supervisor::handle_start(TimePoint) {
  if (phase_ != RunPhase::created) return;
  phase_ = RunPhase::running;
  legs_[0].phase = LegPhase::awaiting_addresses;
  request_resolve();
}

void Supervisor::request_resolve() {
  if (resolve_in_flight_ || resolve_retry_at_) return;
  resolve_in_flight_ = true;
  actions_.emplace_back(Resolve{});
}

void Supervisor::handle_addresses_resolved(TimePoint now, std::vector<sdk::EdgeAddress> addresses) {
  if (phase_ != RunPhase::running && phase_ != RunPhase::draining) return;
  if (!resolve_in_flight_) return;
  if (addresses.empty()) {
    handle_resolve_failed(now, errc::no_edges);
    return;
  }
  resolve_in_flight_ = false;
  addresses_ = std::move(addresses);
  resolved_at_ = now;
  discovery_.last_success_at = now;
  backoff_->on_connected(resolve_backoff_, now);
  // Indexes into the old list mean nothing now; follow each leg's endpoint.
  for (auto& leg : legs_) {
    leg.address.current.reset();
    if (!leg.edge) continue;
    for (std::size_t i = 0; i < addresses_.size(); ++i)
      if (same_endpoint(addresses_[i], *leg.edge)) leg.address.current = i;
  }
  if (phase_ == RunPhase::running) dial_waiting_legs(now);
}

void Supervisor::handle_resolve_failed(TimePoint now, sdk::error_code error, std::string detail) {
  if (phase_ != RunPhase::running && phase_ != RunPhase::draining) return;
  if (!resolve_in_flight_) return;
  resolve_in_flight_ = false;
  ++discovery_.failures[sdk::name(error)];
  discovery_.last_error = error;
  discovery_.last_detail = std::move(detail);
  discovery_.last_failure_at = now;
  if (phase_ == RunPhase::draining) return;
  if (sdk::is_fatal(error)) return finish(exit_code_for_fatal(error), error);
  if (!addresses_.empty()) {
    // Discovery hiccuped but the last list is still our best knowledge;
    // count it as fresh so we do not ask again before the next refresh.
    resolved_at_ = now;
    return dial_waiting_legs(now);
  }
  if (config_.no_reconnect) return finish(1, error);
  auto delay = backoff_->next_delay(resolve_backoff_, now, random_);
  if (!delay) return finish(1, error);
  Duration d = std::clamp(*delay, Duration::zero(), std::min(backoff_->max_delay(), config_.discovery_retry_max));
  resolve_retry_at_ = now + d;
  actions_.emplace_back(RetryScheduled{std::nullopt, d, error});
}

void Supervisor::dial_waiting_legs(TimePoint now) {
  for (unsigned i = 0; i < legs_.size() && phase_ == RunPhase::running; ++i)
    if (legs_[i].phase == LegPhase::awaiting_addresses) dial(now, i);
}

void Supervisor::handle_dial_succeeded(TimePoint now, unsigned leg) {
  LegState* l = live_leg(leg);
  if (!l || l->phase != LegPhase::dialing) return;
  fallback_->on_connected(l->fallback, now);
  note(now, leg, LegEvent::connected);
  l->phase = LegPhase::registering;  // the connect deadline covers registration too
  actions_.emplace_back(Register{leg, l->register_sent});
  l->register_sent = true;
}

void Supervisor::handle_dial_failed(TimePoint now, unsigned leg, sdk::error_code error) {
  LegState* l = live_leg(leg);
  if (!l || l->phase != LegPhase::dialing) return;
  note(now, leg, LegEvent::dial_failed, error);
  fail_leg(now, leg, {error, FailedIn::dial, false, false, {}});
}

void Supervisor::handle_registered(TimePoint now, unsigned leg, RegisteredInfo info) {
  LegState* l = live_leg(leg);
  if (!l || l->phase != LegPhase::registering) return;
  l->phase = LegPhase::registered;
  l->ever_registered = true;
  note(now, leg, LegEvent::registered);
  if (l->edge) address_->on_connected(l->address, address_health_, *l->edge, now);
  backoff_->on_connected(l->backoff, now);
  l->heartbeat_interval = info.heartbeat_interval > Duration::zero() ? info.heartbeat_interval
                                                                       : config_.heartbeat_interval;
  // An edge-assigned interval may be long; never time out before two beats.
  l->heartbeat_timeout = std::max(config_.heartbeat_timeout, 2 * l->heartbeat_interval);
  l->next_heartbeat = now + l->heartbeat_interval;
  l->ack_deadline = now + l->heartbeat_timeout;
  l->last_acked = l->last_sent;  // acks for an earlier connection's beats do not count
  schedule_probe(now, leg);
  if (leg == 0 && !first_registration_) {
    first_registration_ = true;
    start_other_legs(now);
  }
}

void Supervisor::handle_rejected(TimePoint now, unsigned leg, sdk::error_code error, bool fatal,
                                 Duration retry_after) {
  LegState* l = live_leg(leg);
  if (!l || l->phase != LegPhase::registering) return;
  note(now, leg, LegEvent::rejected, error);
  fail_leg(now, leg, {error, FailedIn::session, fatal, true, retry_after});
}

void Supervisor::handle_heartbeat_ack(TimePoint now, unsigned leg, std::uint64_t sequence) {
  LegState* l = live_leg(leg);
  if (!l || !heartbeats_run(l->phase)) return;
  if (sequence <= l->last_acked || sequence > l->last_sent) return;  // stale or never sent
  l->last_acked = sequence;
  l->ack_deadline = now + l->heartbeat_timeout;
  if (l->phase == LegPhase::registered && l->probe.phase == ProbePhase::unregistering && sequence >= l->probe.fence)
    promote_probe(now, leg, std::nullopt);
}

void Supervisor::handle_connection_lost(TimePoint now, unsigned leg, sdk::error_code error) {
  LegState* l = live_leg(leg);
  if (!l) return;
  switch (l->phase) {
    case LegPhase::dialing:
      note(now, leg, LegEvent::dial_failed, error);
      return fail_leg(now, leg, {error, FailedIn::dial, false, false, {}});
    case LegPhase::registering:
    case LegPhase::registered:
      note(now, leg, LegEvent::lost, error);
      return fail_leg(now, leg, {error, FailedIn::session, false, false, {}});
    case LegPhase::unregistering:
      note(now, leg, LegEvent::lost, error);
      count_cut(*l, error);
      l->phase = LegPhase::closed;
      finish_if_drained();
      return rejoin_if_wanted(now, leg);
    default: return;
  }
}

void Supervisor::handle_timeout(TimePoint now) {
  if (phase_ != RunPhase::running && phase_ != RunPhase::draining) return;
  if (resolve_retry_at_ && *resolve_retry_at_ <= now) {
    resolve_retry_at_.reset();
    request_resolve();
  }
  for (unsigned i = 0; i < legs_.size() && !finished(); ++i) {
    run_leg_timers(now, i);
    if (!finished()) run_probe_timers(now, i);
  }
  if (phase_ == RunPhase::draining && drain_deadline_ && *drain_deadline_ <= now) finish(0, {}, true);
}

void Supervisor::handle_shutdown(TimePoint now) {
  switch (phase_) {
    case RunPhase::finished: return;
    case RunPhase::created:
    case RunPhase::draining: return finish(0, {});  // nothing to drain, or asked twice
    case RunPhase::running: break;
  }
  phase_ = RunPhase::draining;
  resolve_retry_at_.reset();
  actions_.emplace_back(StopAcceptingStreams{});
  for (unsigned i = 0; i < legs_.size(); ++i) {
    auto& leg = legs_[i];
    // A probe is not needed any more. If it got as far as the Unregister of
    // the fallback connection, that Unregister is this leg's drain.
    const bool unregister_sent = leg.probe.phase == ProbePhase::unregistering;
    if (leg.probe.phase != ProbePhase::none) actions_.emplace_back(CloseLeg{i, errc::shutting_down, LegConnection::probe});
    leg.probe = {};
    leg.next_probe.reset();
    if (leg.phase == LegPhase::registered) {
      leg.phase = LegPhase::unregistering;
      note(now, i, LegEvent::unregistering);
      if (!unregister_sent) actions_.emplace_back(Unregister{i, config_.grace_period});
    } else if (leg.phase == LegPhase::unregistering) {
      // A leg a reload let go (ha_connections lowered) already drains.
    } else {
      if (holds_connection(leg.phase)) actions_.emplace_back(CloseLeg{i, errc::shutting_down});
      leg.phase = LegPhase::closed;
    }
  }
  drain_deadline_ = now + config_.grace_period;
  finish_if_drained();
}

void Supervisor::handle_stream_opened(TimePoint, unsigned leg) {
  LegState* l = live_leg(leg);
  if (!l || !heartbeats_run(l->phase)) return;
  ++l->streams_arrived;
  ++l->streams_open;
}

void Supervisor::handle_stream_closed(TimePoint now, unsigned leg) {
  LegState* l = live_leg(leg);
  if (!l || !heartbeats_run(l->phase) || l->streams_open == 0) return;
  --l->streams_open;
  close_if_drained(now, leg);
}

void Supervisor::handle_unregister_acked(TimePoint now, unsigned leg, std::uint64_t streams_opened) {
  LegState* l = live_leg(leg);
  if (l && l->phase == LegPhase::registered && l->probe.phase == ProbePhase::unregistering)
    return promote_probe(now, leg, streams_opened);
  if (!l || l->phase != LegPhase::unregistering || l->streams_opened_by_edge) return;
  l->streams_opened_by_edge = streams_opened;
  note(now, leg, LegEvent::unregistered);
  close_if_drained(now, leg);
}

// A leg is done when the edge opens nothing more, every stream it opened
// has arrived, and none is open: closing it then loses nothing.
void Supervisor::close_if_drained(TimePoint now, unsigned leg) {
  auto& l = legs_[leg];
  if (l.phase != LegPhase::unregistering || !l.streams_opened_by_edge) return;
  if (l.streams_arrived < *l.streams_opened_by_edge || l.streams_open > 0) return;
  actions_.emplace_back(CloseLeg{leg, errc::shutting_down});
  l.phase = LegPhase::closed;
  finish_if_drained();
  rejoin_if_wanted(now, leg);
}

void Supervisor::count_cut(LegState& leg, sdk::error_code why) {
  // A leg a reload let go while the run goes on: its cut streams are not the
  // shutdown's (they do not make the exit code 1).
  if (phase_ != RunPhase::draining) {
    leg.streams_open = 0;
    return;
  }
  if (leg.streams_open > 0 && !cut_reason_) cut_reason_ = why;
  streams_cut_ += leg.streams_open;
  leg.streams_open = 0;
}

// Done when no leg holds a connection any more: each drained and closed, or
// was lost (its open streams counted as cut).
void Supervisor::finish_if_drained() {
  if (phase_ != RunPhase::draining) return;
  for (const auto& leg : legs_)
    if (holds_any_connection(leg)) return;
  if (streams_cut_ > 0) return finish(1, cut_reason_);
  finish(0, {});
}

void Supervisor::finish(int code, sdk::error_code reason, bool grace_expired) {
  sdk::error_code close_reason = reason ? reason : sdk::error_code(errc::shutting_down);
  std::uint64_t cut = streams_cut_;
  for (unsigned i = 0; i < legs_.size(); ++i) {
    auto& leg = legs_[i];
    if (holds_connection(leg.phase)) actions_.emplace_back(CloseLeg{i, close_reason});
    if (heartbeats_run(leg.phase)) cut += leg.streams_open;
    if (leg.probe.phase != ProbePhase::none) actions_.emplace_back(CloseLeg{i, close_reason, LegConnection::probe});
    if (leg.retiring.active) {
      actions_.emplace_back(CloseLeg{i, close_reason, LegConnection::retiring});
      cut += leg.retiring.streams_open;
    }
    leg.phase = LegPhase::closed;
    leg.probe = {};
    leg.retiring = {};
    leg.next_probe.reset();
  }
  actions_.emplace_back(Exit{code, reason, cut, grace_expired});
  phase_ = RunPhase::finished;
  resolve_retry_at_.reset();
  drain_deadline_.reset();
}

std::optional<SupervisorAction> Supervisor::poll_action() {
  if (actions_.empty()) return std::nullopt;
  SupervisorAction next = std::move(actions_.front());
  actions_.pop_front();
  return next;
}

std::optional<TimePoint> Supervisor::next_timeout() const {
  if (phase_ != RunPhase::running && phase_ != RunPhase::draining) return std::nullopt;
  std::optional<TimePoint> earliest;
  auto consider = [&](TimePoint t) {
    if (!earliest || t < *earliest) earliest = t;
  };
  if (resolve_retry_at_) consider(*resolve_retry_at_);
  if (drain_deadline_) consider(*drain_deadline_);
  for (const auto& leg : legs_) {
    switch (leg.phase) {
      case LegPhase::scheduled:
      case LegPhase::dialing:
      case LegPhase::registering: consider(leg.deadline); break;
      case LegPhase::registered:
      case LegPhase::unregistering:
        consider(leg.next_heartbeat);
        consider(leg.ack_deadline);
        // A leg a reload let go drains for the grace period (a shutdown's has drain_deadline_).
        if (leg.phase == LegPhase::unregistering && phase_ == RunPhase::running) consider(leg.deadline);
        break;
      default: break;
    }
    if (leg.phase == LegPhase::registered && leg.probe.phase == ProbePhase::none && leg.next_probe &&
        phase_ == RunPhase::running)
      consider(*leg.next_probe);
    if (leg.probe.phase != ProbePhase::none) consider(leg.probe.deadline);
    if (leg.retiring.active) {
      consider(leg.retiring.deadline);
      consider(leg.retiring.next_heartbeat);
    }
  }
  return earliest;
}

}  // namespace warren::core::supervisor

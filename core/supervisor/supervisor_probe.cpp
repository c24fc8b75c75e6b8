// Supervisor: the return to the preferred transport, make-before-break.
//
// A leg registered on a fallback transport (index > 0) asks the fallback
// policy when to probe; then it dials transport 0 to the same edge address
// beside its live connection. The edge refuses a registration for a leg index
// a LIVE connection holds (duplicate_registration) and frees the index as soon
// as it reads that connection's Unregister, so the order is:
//
//   Dial{probe} -> connected -> Unregister + Heartbeat{fence} on the fallback
//   connection -> the fence's HeartbeatAck (or the UnregisterAck, whichever
//   comes first) -> RetireConnection{promote} + Register on the probe -> the
//   fallback connection serves the streams the edge opened on it until they
//   end (heartbeats go on; return_drain, 1 h by default, bounds it; a
//   shutdown bounds it by the grace period like every other leg) -> CloseLeg.
//
// Why the fence: the edge sends UnregisterAck only once every stream of the
// connection has finished (its count must be final), which under a long
// transfer is minutes, not a round trip. Control messages are read in order,
// so the ack of a heartbeat sent after the Unregister proves the edge has
// read the Unregister and freed the index, one RTT later.
//
// We chose this over a protocol flag that moves the index atomically: it
// needs nothing new from the edge or the protocol (older edges keep working),
// and the one RTT in which this leg's index is not live costs nothing: the
// edge gives new public connections to the tunnel's other legs (and every
// stream already opened on the old connection runs to its end there). The dial — where a blocked or broken
// QUIC path fails — happens before anything is given up, so a failed probe
// leaves the fallback connection untouched. Only a probe lost in the one RTT
// after the Unregister went out costs the leg its registration; it then
// reconnects as after any loss, and the old connection still drains.

#include "core/supervisor/supervisor.hpp"

namespace warren::core::supervisor {

using sdk::errc;

void Supervisor::schedule_probe(TimePoint now, unsigned leg) {
  auto& l = legs_[leg];
  l.next_probe.reset();
  if (l.fallback.current == 0 || config_.transport_count < 2) return;
  l.next_probe = fallback_->next_probe(l.fallback, now, random_);
  if (l.next_probe && *l.next_probe < now) l.next_probe = now;
}

void Supervisor::start_probe(TimePoint now, unsigned leg) {
  auto& l = legs_[leg];
  l.next_probe.reset();
  // One retiring connection per leg at most: a leg that fell back again
  // soon after a return waits for the old one to finish draining.
  if (l.retiring.active || !l.edge) return schedule_probe(now, leg);
  l.probe.phase = ProbePhase::dialing;
  l.probe.deadline = now + config_.connect_timeout;
  history_[leg].record({.at = now, .event = LegEvent::probing, .address = l.edge, .transport = 0});
  actions_.emplace_back(Dial{.leg = leg, .address = *l.edge, .transport = 0, .moved = std::nullopt, .probe = true});
}

void Supervisor::handle_probe_dial_succeeded(TimePoint, unsigned leg) {
  LegState* l = live_leg(leg);
  if (!l || l->probe.phase != ProbePhase::dialing || phase_ != RunPhase::running) return;
  // The preferred path works: free the leg's index at the edge (see above).
  l->probe.phase = ProbePhase::unregistering;
  actions_.emplace_back(Unregister{leg, config_.return_drain});
  l->probe.fence = ++l->last_sent;
  actions_.emplace_back(SendHeartbeat{leg, l->probe.fence});
}

void Supervisor::handle_probe_failed(TimePoint now, unsigned leg, sdk::error_code error) {
  LegState* l = live_leg(leg);
  if (!l || l->probe.phase == ProbePhase::none) return;
  drop_probe(now, leg, error, false);
}

void Supervisor::drop_probe(TimePoint now, unsigned leg, sdk::error_code why, bool close) {
  auto& l = legs_[leg];
  const ProbePhase was = l.probe.phase;
  l.probe = {};
  if (close) actions_.emplace_back(CloseLeg{leg, why, LegConnection::probe});
  history_[leg].record({.at = now, .event = LegEvent::probe_failed, .address = l.edge, .transport = 0, .error = why});
  if (l.phase != LegPhase::registered) return;  // the leg itself failed or stops: nothing to keep
  if (was == ProbePhase::dialing) return schedule_probe(now, leg);
  // The fallback connection already unregistered: it can only drain now,
  // and the leg starts over as after a loss.
  retire_current(now, leg, false);
  note(now, leg, LegEvent::lost, why);
  fail_leg(now, leg, {why, FailedIn::session, false, false, {}});
}

void Supervisor::retire_current(TimePoint now, unsigned leg, bool promote) {
  auto& l = legs_[leg];
  l.retiring = Retiring{.active = true,
                        .transport = l.fallback.current,
                        .edge = l.edge,
                        .streams_arrived = l.streams_arrived,
                        .streams_open = l.streams_open,
                        .streams_opened_by_edge = l.streams_opened_by_edge,
                        .deadline = now + config_.return_drain,
                        .next_heartbeat = l.next_heartbeat,
                        .last_sent = l.last_sent};
  actions_.emplace_back(RetireConnection{leg, promote, l.fallback.current, 0});
  l.streams_arrived = 0;
  l.streams_open = 0;
  l.streams_opened_by_edge.reset();
  l.next_probe.reset();
}

void Supervisor::run_probe_timers(TimePoint now, unsigned leg) {
  auto& l = legs_[leg];
  if (l.retiring.active) {
    if (l.retiring.deadline <= now) {
      close_retiring(now, leg, errc::shutting_down);  // its return_drain is over
    } else if (l.retiring.next_heartbeat <= now) {
      actions_.emplace_back(SendHeartbeat{leg, ++l.retiring.last_sent, LegConnection::retiring});
      l.retiring.next_heartbeat = now + l.heartbeat_interval;
    }
  }
  if (l.probe.phase != ProbePhase::none && l.probe.deadline <= now)
    return drop_probe(now, leg, errc::handshake_timeout, true);
  if (l.phase == LegPhase::registered && l.probe.phase == ProbePhase::none && l.next_probe && *l.next_probe <= now &&
      phase_ == RunPhase::running)
    start_probe(now, leg);
}

// The edge read the old connection's Unregister (the fence's ack, or the
// UnregisterAck with its count): the index is free, the probe takes it.
void Supervisor::promote_probe(TimePoint now, unsigned leg, std::optional<std::uint64_t> streams_opened) {
  auto& l = legs_[leg];
  if (streams_opened) l.streams_opened_by_edge = streams_opened;
  const std::size_t from = l.fallback.current;
  retire_current(now, leg, true);
  l.probe = {};
  l.fallback.current = 0;
  fallback_->on_connected(l.fallback, now);
  history_[leg].record(
      {.at = now, .event = LegEvent::returned_transport, .address = l.edge, .transport = 0, .from_transport = from});
  history_[leg].record({.at = now, .event = LegEvent::dialing, .address = l.edge, .transport = 0});
  note(now, leg, LegEvent::connected);
  l.phase = LegPhase::registering;
  l.deadline = now + config_.connect_timeout;
  // No replace_existing: the edge freed the index; should a live connection
  // hold it after all, a refusal is the safe answer (nothing is evicted).
  actions_.emplace_back(Register{leg, false});
  l.register_sent = true;
  close_retiring_if_drained(now, leg);
}

void Supervisor::handle_retired_stream_opened(TimePoint, unsigned leg) {
  LegState* l = live_leg(leg);
  if (!l || !l->retiring.active) return;
  ++l->retiring.streams_arrived;
  ++l->retiring.streams_open;
}

void Supervisor::handle_retired_stream_closed(TimePoint now, unsigned leg) {
  LegState* l = live_leg(leg);
  if (!l || !l->retiring.active || l->retiring.streams_open == 0) return;
  --l->retiring.streams_open;
  close_retiring_if_drained(now, leg);
}

void Supervisor::handle_retired_unregister_acked(TimePoint now, unsigned leg, std::uint64_t streams_opened) {
  LegState* l = live_leg(leg);
  if (!l || !l->retiring.active || l->retiring.streams_opened_by_edge) return;
  l->retiring.streams_opened_by_edge = streams_opened;
  close_retiring_if_drained(now, leg);
}

void Supervisor::handle_retired_lost(TimePoint now, unsigned leg, sdk::error_code error) {
  LegState* l = live_leg(leg);
  if (!l || !l->retiring.active) return;
  if (phase_ == RunPhase::draining && l->retiring.streams_open > 0) {
    if (!cut_reason_) cut_reason_ = error;
    streams_cut_ += l->retiring.streams_open;
  }
  history_[leg].record({.at = now,
                        .event = LegEvent::retired,
                        .address = l->retiring.edge,
                        .transport = l->retiring.transport,
                        .error = error});
  l->retiring = {};
  finish_if_drained();
}

void Supervisor::close_retiring_if_drained(TimePoint now, unsigned leg) {
  auto& r = legs_[leg].retiring;
  if (!r.active || !r.streams_opened_by_edge) return;
  if (r.streams_arrived < *r.streams_opened_by_edge || r.streams_open > 0) return;
  history_[leg].record({.at = now, .event = LegEvent::retired, .address = r.edge, .transport = r.transport});
  actions_.emplace_back(CloseLeg{leg, errc::shutting_down, LegConnection::retiring});
  r = {};
  finish_if_drained();
}

void Supervisor::close_retiring(TimePoint now, unsigned leg, sdk::error_code why) {
  auto& r = legs_[leg].retiring;
  if (!r.active) return;
  if (r.streams_open > 0 && phase_ == RunPhase::draining) {
    if (!cut_reason_) cut_reason_ = why;
    streams_cut_ += r.streams_open;
  }
  history_[leg].record(
      {.at = now, .event = LegEvent::retired, .address = r.edge, .transport = r.transport, .error = why});
  actions_.emplace_back(CloseLeg{leg, why, LegConnection::retiring});
  r = {};
  finish_if_drained();
}

bool Supervisor::holds_any_connection(const LegState& leg) const {
  return holds_connection(leg.phase) || leg.retiring.active;
}

}  // namespace warren::core::supervisor

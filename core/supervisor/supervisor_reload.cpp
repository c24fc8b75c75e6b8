// Supervisor: a reload's new settings and policies (SIGHUP on the
// connector). Nothing running is torn down for them; they apply as legs
// reconnect, except a change of ha_connections, which lets extra legs go
// (each drains like a shutdown's) or starts new ones.

#include "core/supervisor/supervisor.hpp"

#include <stdexcept>

namespace warren::core::supervisor {

using sdk::errc;

void Supervisor::handle_settings(TimePoint now, SupervisorConfig config, const sdk::BackoffPolicy& backoff,
                                 const sdk::AddressPolicy* address, const sdk::FallbackPolicy* fallback,
                                 bool rediscover) {
  if (auto problem = find_problem(config)) throw std::invalid_argument("supervisor config: " + *problem);
  if (!address || !fallback)
    throw std::invalid_argument("supervisor: a reload must give address and fallback policies");
  if (config.transport_count != config_.transport_count)
    throw std::invalid_argument("supervisor: the transport list cannot change while running");
  config_ = config;
  backoff_ = &backoff;
  address_ = address;
  fallback_ = fallback;
  // The next attempt asks the new discovery; a leg that is connected keeps its edge.
  if (rediscover && !resolve_in_flight_) resolved_at_.reset();
  if (legs_.size() < config_.ha_connections) {
    legs_.resize(config_.ha_connections);
    history_.resize(config_.ha_connections);
  }
  // Before the start handle_start starts the new count; while draining no leg starts.
  if (phase_ != RunPhase::running) return;
  for (unsigned i = config_.ha_connections; i < legs_.size(); ++i) leave_leg(now, i);
  for (unsigned i = 1; i < config_.ha_connections; ++i) rejoin_if_wanted(now, i);
  if (first_registration_) start_other_legs(now);  // the new legs (idle); before it, leg 0's registration starts them
}

void Supervisor::leave_leg(TimePoint now, unsigned leg) {
  auto& l = legs_[leg];
  // As in handle_shutdown: a probe that got as far as the Unregister of the
  // fallback connection has sent this leg's Unregister.
  const bool unregister_sent = l.probe.phase == ProbePhase::unregistering;
  if (l.probe.phase != ProbePhase::none)
    actions_.emplace_back(CloseLeg{leg, errc::shutting_down, LegConnection::probe});
  l.probe = {};
  l.next_probe.reset();
  switch (l.phase) {
    case LegPhase::registered:
      l.phase = LegPhase::unregistering;
      l.deadline = now + config_.grace_period;
      note(now, leg, LegEvent::unregistering);
      if (!unregister_sent) actions_.emplace_back(Unregister{leg, config_.grace_period});
      break;
    case LegPhase::unregistering:
    case LegPhase::closed: break;
    case LegPhase::dialing:
    case LegPhase::registering:
      actions_.emplace_back(CloseLeg{leg, errc::shutting_down});
      l.phase = LegPhase::closed;
      break;
    default: l.phase = LegPhase::closed; break;  // idle, scheduled, awaiting addresses: nothing open
  }
}

// In a running phase a leg is closed only because a reload let it go (a
// failure schedules a retry): one the run wants again starts like a staggered leg.
void Supervisor::rejoin_if_wanted(TimePoint now, unsigned leg) {
  if (phase_ != RunPhase::running || leg == 0 || leg >= config_.ha_connections) return;
  if (legs_[leg].phase != LegPhase::closed) return;
  legs_[leg].phase = LegPhase::idle;
  if (first_registration_) start_other_legs(now);
}

}  // namespace warren::core::supervisor

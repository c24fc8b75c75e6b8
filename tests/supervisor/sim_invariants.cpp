// SimWorld: the invariants that must hold after every step.

#include "sim_world.hpp"

#include <algorithm>

namespace warren::core::supervisor::test {

using namespace sim;

void SimReplica::check_after_step() {
  const auto& config = scenario_.config;
  auto legs = supervisor_->legs();
  unsigned holding = 0;
  for (unsigned i = 0; i < legs.size(); ++i) {
    bool supervisor_holds = holds_connection(legs[i].phase);
    holding += supervisor_holds;
    // The supervisor and the shell agree on which legs hold a connection,
    // so no connection is leaked and none is used after it was closed.
    if (!exit_code_ && supervisor_holds != static_cast<bool>(legs_[i]))
      violate("leg " + std::to_string(i) + ": the supervisor " + (supervisor_holds ? "holds" : "does not hold") +
              " a connection the world " + (legs_[i] ? "has open" : "does not have"));
    const auto& c = legs_[i];
    if (!c || exit_code_) continue;
    // An edge that died silently is noticed by the heartbeat deadline.
    if (c->silent_since && heartbeats_run(legs[i].phase)) {
      auto interval =
          scenario_.edge_interval > sdk::Duration::zero() ? scenario_.edge_interval : config.heartbeat_interval;
      auto limit = std::max(config.heartbeat_timeout, 2 * interval);
      if (now_ - std::max(*c->silent_since, c->since) > limit)
        violate("a silent edge went unnoticed past the heartbeat timeout");
    }
    // A drained leg closes at once: an idle connector stops within a round trip.
    if (c->state == Connection::State::unregistering && c->drained() && !c->silent_since)
      violate("leg " + std::to_string(i) + " drained but is still open");
    // A dial or registration that hangs is abandoned at the connect timeout.
    if ((c->state == Connection::State::dialing || c->state == Connection::State::connected) &&
        now_ - c->since > config.connect_timeout)
      violate("an attempt outlived the connect timeout");
  }
  if (holding > config.ha_connections) violate("more legs hold connections than configured");
  // The return: the supervisor and the world agree on each leg's probe and
  // retiring connection; a leg has at most one live registration (its
  // current connection) besides the retiring one, which is unregistered,
  // drains for no longer than its grace period, and closes once drained.
  for (unsigned i = 0; i < legs.size() && !exit_code_; ++i) {
    const bool probing = legs[i].probe.phase != ProbePhase::none;
    if (probing != static_cast<bool>(probes_[i]))
      violate("leg " + std::to_string(i) + ": the supervisor " + (probing ? "has" : "has no") + " probe, the world " +
              (probes_[i] ? "has one" : "has none"));
    if (legs[i].retiring.active != static_cast<bool>(retiring_[i]))
      violate("leg " + std::to_string(i) + ": the supervisor and the world disagree on a retiring connection");
    if (probes_[i] && now_ - probes_[i]->since > config.connect_timeout)
      violate("a probe outlived the connect timeout");
    const auto& r = retiring_[i];
    if (!r) continue;
    if (r->state != Connection::State::unregistering) violate("a retiring connection that never unregistered");
    if (now_ - retired_at_[i] > config.return_drain) violate("a retiring connection outlived its return_drain");
    if (r->drained() && !r->silent_since) violate("a retiring connection drained but is still open");
  }
  if (fatal_this_step_ && !shutdown_requested_ && !exit_code_) violate("a fatal error did not end the run at once");
  if (!backoff_->answers.empty() && !exit_code_) violate("a backoff answer led to no RetryScheduled");
  fatal_this_step_ = false;
  std::fill(retry_floor_.begin(), retry_floor_.end(), std::nullopt);
}

}  // namespace warren::core::supervisor::test

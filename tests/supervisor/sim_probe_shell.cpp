// SimWorld as the shell, for the return to the preferred transport: a leg's
// probe connection beside its fallback one, and the old connection retiring
// (split from sim_shell.cpp).

#include "sim_world.hpp"

namespace warren::core::supervisor::test {

using namespace std::chrono_literals;
using namespace sim;
using sdk::errc;

// A probe: transport 0, to the address of the leg's registered connection on
// a fallback transport, beside it; one at a time, none while an older
// connection still retires, none once the run stops.
void SimReplica::execute_probe(const Dial& a) {
  if (a.leg >= legs_.size()) return violate("Probe for a leg that does not exist");
  auto& c = legs_[a.leg];
  if (shutdown_requested_) return violate("Probe after shutdown");
  if (!c || c->state != Connection::State::registered) return violate("Probe for a leg that is not registered");
  if (c->transport == 0) return violate("Probe from a leg already on the preferred transport");
  if (a.transport != 0) return violate("Probe of a transport other than the preferred one");
  if (!same_endpoint(edges_[c->edge], a.address)) return violate("Probe to another address than the leg's");
  if (probes_[a.leg]) return violate("a second probe for one leg");
  if (retiring_[a.leg]) return violate("a probe while the leg's previous connection still retires");
  ++stats_.probes;
  auto p = std::make_unique<Connection>();
  p->attempt = ++net_.next_attempt;
  p->edge = c->edge;
  p->transport = 0;
  p->since = now_;
  auto fail = [&](sdk::error_code ec, sdk::Duration lo, sdk::Duration hi) {
    auto e = event_for(*p, dial_failed, latency(lo, hi), a.leg);
    e->ec = ec;
    schedule(e);
  };
  if (!edge_up_[p->edge] || edge_silent_[p->edge]) {
    if (edge_silent_[p->edge]) p->silent_since = now_;
    else fail(errc::dial_failed, 1ms, 100ms);
  } else if (quic_blocked_now()) {
    if (chance(0.2)) p->silent_since = now_;
    else fail(errc::quic_broken, 100ms, 3s);
  } else if (chance(0.05)) {
    fail(errc::tls_failed, 5ms, 500ms);
  } else {
    schedule(event_for(*p, dial_ok, latency(5ms, 300ms), a.leg));
  }
  probes_[a.leg] = std::move(p);
}

void SimReplica::execute_retire(const RetireConnection& a) {
  if (a.leg >= legs_.size()) return violate("Retire for a leg that does not exist");
  auto& c = legs_[a.leg];
  if (!c || c->state != Connection::State::unregistering)
    return violate("Retire of a connection that was not unregistered");
  if (retiring_[a.leg]) return violate("Retire while another connection of the leg retires");
  stats_.retiring_streams += c->open + (c->edge_opened - c->arrived);  // running (or on their way) across it
  retiring_[a.leg] = std::move(c);
  retired_at_[a.leg] = now_;
  if (a.promote_probe) {
    auto& p = probes_[a.leg];
    if (!p || p->state != Connection::State::connected) return violate("Retire promotes a probe that is not connected");
    ++stats_.returns;
    c = std::move(p);
    c->was_probe = true;
    c->since = now_;  // its registration's connect timeout starts now
    promoted_[a.leg] = true;
  } else if (probes_[a.leg]) {
    return violate("Retire without promotion while the probe is still open");
  }
}

void SimReplica::close_retiring(unsigned leg) {
  if (leg >= retiring_.size() || !retiring_[leg]) return violate("CloseLeg for a retiring connection that does not exist");
  auto& r = retiring_[leg];
  const bool grace_over = now_ - retired_at_[leg] >= scenario_.config.return_drain ||
                          (shutdown_requested_ && now_ - shutdown_time_ >= scenario_.config.grace_period);
  if (r->drained()) {
    ++stats_.retirements_drained;
  } else if (grace_over) {
    ++stats_.retirements_cut_by_grace;
    if (shutdown_requested_) cut_by_loss_ += r->open;  // the supervisor counts it as cut in the drain
  } else {
    retiring_closed_early_ = true;  // fine only if this step ends the run
    cut_at_exit_ += r->open;
  }
  forget_at_edge(*r);
  r.reset();
}

}  // namespace warren::core::supervisor::test

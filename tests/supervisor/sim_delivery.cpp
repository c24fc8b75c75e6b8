// SimWorld: events reaching the supervisor (or changing the world).

#include "sim_world.hpp"

namespace warren::core::supervisor::test {

using namespace std::chrono_literals;
using namespace sim;
using sdk::errc;

void SimWorld::request_shutdown() {
  if (shutdown_requested_) return;
  shutdown_requested_ = true;
  shutdown_time_ = now_;
  ++stats_.shutdowns;
  // Every leg live at this moment must be unregistered before Exit{0}.
  for (unsigned i = 0; i < legs_.size(); ++i)
    if (legs_[i] && legs_[i]->state == Connection::State::registered) must_unregister_.insert(i);
}

void SimWorld::edge_goes_down(std::size_t edge) {
  edge_up_[edge] = false;
  edge_silent_[edge] = chance(0.5);
  trace(std::string("edge ") + std::to_string(edge) + (edge_silent_[edge] ? " goes silent" : " goes down"));
  for (unsigned i = 0; i < legs_.size(); ++i) {
    auto& c = legs_[i];
    if (!c || c->edge != edge || c->silent_since) continue;
    if (edge_silent_[edge]) {
      c->silent_since = now_;
    } else {
      auto e = event(lost, latency(1ms, 50ms), i);
      e->ec = errc::peer_closed;
      schedule(e);
    }
  }
  auto up = event(edge_up, latency(1s, 30s));
  up->edge = edge;
  schedule(up);
}

void SimWorld::deliver(Event& e) {
  switch (e.kind) {
    case shutdown:
      trace("event: shutdown");
      request_shutdown();
      supervisor_->handle_shutdown(now_);
      return;
    case edge_down:
      edge_goes_down(e.edge);
      return;
    case edge_up: {
      edge_up_[e.edge] = true;
      trace("edge " + std::to_string(e.edge) + " is back");
      auto down = event(edge_down, latency(5s, 60s));
      down->edge = e.edge;
      schedule(down);
      return;
    }
    case resolved:
      trace("event: resolved " + std::to_string(e.addresses.size()) + " addresses");
      supervisor_->handle_addresses_resolved(now_, e.addresses);
      return;
    case resolve_failed:
      trace("event: resolve failed (" + e.ec.message() + ")");
      supervisor_->handle_resolve_failed(now_, e.ec);
      return;
    default:
      deliver_to_leg(e);
  }
}

void SimWorld::deliver_to_leg(Event& e) {
  auto& c = legs_[e.leg];
  // The shell drops news about a connection it already closed, and a
  // silent edge says nothing at all.
  if (!c || c->attempt != e.attempt) return;
  if (c->silent_since && e.kind != lost) return;
  std::string leg = " leg=" + std::to_string(e.leg);
  switch (e.kind) {
    case dial_ok:
      trace("event: dial ok" + leg);
      c->state = Connection::State::connected;
      dial_failures_on_quic_[e.leg] = 0;
      supervisor_->handle_dial_succeeded(now_, e.leg);
      return;
    case dial_failed:
      trace("event: dial failed" + leg + " (" + e.ec.message() + ")");
      if (c->transport == 0) ++dial_failures_on_quic_[e.leg];
      c.reset();
      if (sdk::is_fatal(e.ec)) fatal_this_step_ = fatal_delivered_ = true;
      supervisor_->handle_dial_failed(now_, e.leg, e.ec);
      return;
    case registered: {
      trace("event: registered" + leg);
      c->state = Connection::State::registered;
      c->since = now_;
      if (e.leg == 0) leg0_registered_once_ = true;
      ++stats_.registrations;
      // Connections do not last forever.
      auto loss = event(lost, latency(1s, 90s), e.leg);
      loss->ec = chance(0.5) ? sdk::error_code(errc::idle_timeout) : sdk::error_code(errc::peer_closed);
      schedule(loss);
      // Public clients: often none, sometimes a few, at random moments.
      for (auto n = chance(0.3) ? 0 : random_.next_u64() % 4; n > 0; --n)
        schedule(event(stream_edge_open, latency(0ms, 20s), e.leg));
      supervisor_->handle_registered(now_, e.leg, RegisteredInfo{e.interval});
      return;
    }
    case rejected:
      trace("event: rejected" + leg + " (" + e.ec.message() + (e.fatal ? ", fatal" : "") + ")");
      // The connection stays open until the supervisor's CloseLeg.
      if (e.fatal || sdk::is_fatal(e.ec)) fatal_this_step_ = fatal_delivered_ = true;
      retry_floor_[e.leg] = e.retry_after;
      supervisor_->handle_rejected(now_, e.leg, e.ec, e.fatal, e.retry_after);
      return;
    case ack:
      trace("event: ack" + leg + " seq=" + std::to_string(e.seq));
      supervisor_->handle_heartbeat_ack(now_, e.leg, e.seq);
      return;
    case lost:
      trace("event: lost" + leg + " (" + e.ec.message() + ")");
      if (c->state == Connection::State::dialing && c->transport == 0) ++dial_failures_on_quic_[e.leg];
      if (c->state == Connection::State::unregistering) cut_by_loss_ += c->open;
      c.reset();
      supervisor_->handle_connection_lost(now_, e.leg, e.ec);
      return;
    case unregister_acked:
      // The edge opens nothing after this; streams it opened before may
      // still be on their way.
      c->edge_unregistered = true;
      c->ack_count = c->edge_opened;
      trace("event: unregister acked" + leg + " opened=" + std::to_string(c->edge_opened));
      supervisor_->handle_unregister_acked(now_, e.leg, c->edge_opened);
      return;
    case stream_edge_open:
    case stream_arrive:
    case stream_close:
      return deliver_stream_event(e);
    default:
      return;
  }
}

void SimWorld::deliver_stream_event(Event& e) {
  auto& c = legs_[e.leg];
  std::string leg = " leg=" + std::to_string(e.leg);
  switch (e.kind) {
    case stream_edge_open: {
      if (c->edge_unregistered || !edge_up_[c->edge]) return;
      ++c->edge_opened;
      auto arrive = event(stream_arrive, latency(1ms, 200ms), e.leg);  // may overtake the ack, or not
      arrive->attempt = c->attempt;
      schedule(arrive);
      return;
    }
    case stream_arrive: {
      ++c->arrived;
      ++c->open;
      ++stats_.streams;
      trace("event: stream arrives" + leg);
      auto close = event(stream_close, chance(0.7) ? latency(10ms, 5s) : latency(5s, 60s), e.leg);
      close->attempt = c->attempt;
      schedule(close);
      supervisor_->handle_stream_opened(now_, e.leg);
      return;
    }
    case stream_close:
      --c->open;
      trace("event: stream closes" + leg);
      supervisor_->handle_stream_closed(now_, e.leg);
      return;
    default: return;
  }
}

}  // namespace warren::core::supervisor::test

// SimWorld: events reaching the supervisor (or changing the world).

#include "sim_world.hpp"

#include <algorithm>

namespace warren::core::supervisor::test {

using namespace std::chrono_literals;
using namespace sim;
using sdk::errc;

void SimReplica::request_shutdown() {
  if (shutdown_requested_) return;
  shutdown_requested_ = true;
  shutdown_time_ = now_;
  ++stats_.shutdowns;
  // Every leg live at this moment must be unregistered before Exit{0}.
  for (unsigned i = 0; i < legs_.size(); ++i)
    if (legs_[i] && legs_[i]->state == Connection::State::registered) must_unregister_.insert(i);
}

// The edge process died: its registry is gone, and so is every connection.
void SimWorld::edge_goes_down(std::size_t edge) {
  net_.edge_up[edge] = false;
  net_.edge_silent[edge] = net_.random.uniform01() < 0.5;
  ++net_.edge_epoch[edge];
  net_.registries[edge] = std::make_unique<TunnelRegistry>(sim_registry_limits(), sim_tunnels());
  ++stats_.edge_deaths;
  net_.trace.push_back("t=" + sdk::format_duration(net_.now - net_.start) + " edge " + std::to_string(edge) +
                       (net_.edge_silent[edge] ? " goes silent" : " goes down"));
  for (auto& r : replicas_) r->edge_went_down(edge);
  auto up = std::make_shared<Event>();
  up->kind = edge_up;
  up->edge = edge;
  up->at = net_.now + std::chrono::milliseconds(1000 + net_.random.next_u64() % 29000);
  schedule(up);
}

void SimReplica::edge_went_down(std::size_t edge) {
  for (auto* others : {&probes_, &retiring_})
    for (unsigned i = 0; i < others->size(); ++i) {
      auto& c = (*others)[i];
      if (!c || c->edge != edge || c->silent_since) continue;
      if (edge_silent_[edge]) {
        c->silent_since = now_;
      } else {
        auto e = event_for(*c, lost, latency(1ms, 50ms), i);
        e->ec = errc::peer_closed;
        schedule(e);
      }
    }
  for (unsigned i = 0; i < legs_.size(); ++i) {
    auto& c = legs_[i];
    if (!c || c->edge != edge || c->silent_since) continue;
    if (c->state != Connection::State::dialing) ++stats_.legs_lost_to_dead_edges;
    if (edge_silent_[edge]) {
      c->silent_since = now_;
    } else {
      auto e = event(lost, latency(1ms, 50ms), i);
      e->ec = chance(scenario_.dead_edge_unreachable) ? sdk::error_code(errc::peer_unreachable)
                                                      : sdk::error_code(errc::peer_closed);
      schedule(e);
    }
  }
}

// Discovery's answer changes: an edge added or removed (rarely, none left).
void SimWorld::change_dns() {
  auto& in = net_.in_dns;
  const std::size_t n = in.size();
  const std::size_t pick = net_.random.next_u64() % n;
  const auto listed = static_cast<std::size_t>(std::count(in.begin(), in.end(), true));
  ++stats_.dns_changes;
  if (in[pick] && (listed > 1 || net_.random.uniform01() < 0.1)) {
    in[pick] = false;
    ++stats_.dns_removed;
  } else if (!in[pick]) {
    in[pick] = true;
    ++stats_.dns_added;
  }
  if (std::none_of(in.begin(), in.end(), [](bool b) { return b; })) ++stats_.dns_empty;
  std::string answer;
  for (std::size_t i = 0; i < n; ++i)
    if (in[i]) answer += " " + std::to_string(i);
  net_.trace.push_back("t=" + sdk::format_duration(net_.now - net_.start) + " DNS now answers edges [" + answer + " ]");
  auto next = std::make_shared<Event>();
  next->kind = dns_change;
  next->at = net_.now + std::chrono::milliseconds(3000 + net_.random.next_u64() % 37000);
  schedule(next);
}

void SimWorld::deliver(Event& e) {
  switch (e.kind) {
    case edge_down: return edge_goes_down(e.edge);
    case edge_up: {
      net_.edge_up[e.edge] = true;
      ++stats_.edge_returns;
      net_.trace.push_back("t=" + sdk::format_duration(net_.now - net_.start) + " edge " + std::to_string(e.edge) +
                           " is back");
      auto down = std::make_shared<Event>();
      down->kind = edge_down;
      down->edge = e.edge;
      down->at = net_.now + std::chrono::milliseconds(5000 + net_.random.next_u64() % 55000);
      schedule(down);
      return;
    }
    case dns_change: return change_dns();
    default: replicas_.at(e.replica)->deliver(e);
  }
}

void SimReplica::deliver(Event& e) {
  if (exit_code_) return;  // the process is gone
  switch (e.kind) {
    case shutdown:
      trace("event: shutdown");
      request_shutdown();
      supervisor_->handle_shutdown(now_);
      return;
    case resolved:
      trace("event: resolved " + std::to_string(e.addresses.size()) + " addresses");
      resolve_in_flight_ = false;
      last_answer_at_ = now_;
      leg_failed_since_answer_ = false;
      if (!e.addresses.empty())
        last_answer_ = e.addresses;
      else
        resolve_backoff_pending_ = last_answer_.empty();
      supervisor_->handle_addresses_resolved(now_, e.addresses);
      return;
    case resolve_failed:
      trace("event: resolve failed (" + std::string(sdk::name(e.ec)) + ")");
      resolve_in_flight_ = false;
      last_answer_at_ = now_;
      leg_failed_since_answer_ = false;
      resolve_backoff_pending_ = last_answer_.empty();
      supervisor_->handle_resolve_failed(now_, e.ec);
      return;
    default: deliver_to_leg(e);
  }
}

void SimReplica::deliver_to_leg(Event& e) {
  if (probes_[e.leg] && probes_[e.leg]->attempt == e.attempt) return deliver_to_probe(e);
  if (retiring_[e.leg] && retiring_[e.leg]->attempt == e.attempt) return deliver_to_retiring(e);
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
      trace("event: dial failed" + leg + " (" + std::string(sdk::name(e.ec)) + ")");
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
      if (c->was_probe) ++stats_.returns_registered;
      if (last_registered_edge_[e.leg] && *last_registered_edge_[e.leg] != c->edge) ++stats_.rehomes;
      last_registered_edge_[e.leg] = c->edge;
      streak_[e.leg] = 0;
      streak_address_[e.leg].reset();
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
      // The edge answered with an uncounted refusal (busy, rate-limited, its
      // slot held): the row of counted failures on this address ends.
      if (rotation_ && rotation_->classify(e.ec) != sdk::AddressAction::rotate_and_count) {
        streak_address_[e.leg].reset();
        streak_[e.leg] = 0;
      }
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
      forget_at_edge(*c);
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
    case stream_close: return deliver_stream_event(e, *c, false);
    default: return;
  }
}

void SimReplica::deliver_to_probe(Event& e) {
  auto& p = probes_[e.leg];
  if (p->silent_since && e.kind != lost) return;
  std::string leg = " leg=" + std::to_string(e.leg);
  switch (e.kind) {
    case dial_ok:
      trace("event: probe connected" + leg);
      p->state = Connection::State::connected;
      p->since = now_;
      supervisor_->handle_probe_dial_succeeded(now_, e.leg);
      return;
    case dial_failed:
    case lost:
      trace("event: probe failed" + leg + " (" + std::string(sdk::name(e.ec)) + ")");
      ++stats_.probe_failures;
      p.reset();
      supervisor_->handle_probe_failed(now_, e.leg, e.ec);
      return;
    default: return;
  }
}

void SimReplica::deliver_to_retiring(Event& e) {
  auto& r = retiring_[e.leg];
  if (r->silent_since && e.kind != lost) return;
  std::string leg = " leg=" + std::to_string(e.leg);
  switch (e.kind) {
    case lost:
      trace("event: retiring lost" + leg + " (" + e.ec.message() + ")");
      if (shutdown_requested_) cut_by_loss_ += r->open;
      forget_at_edge(*r);
      r.reset();
      supervisor_->handle_retired_lost(now_, e.leg, e.ec);
      return;
    case unregister_acked:
      r->edge_unregistered = true;
      r->ack_count = r->edge_opened;
      trace("event: retiring unregister acked" + leg + " opened=" + std::to_string(r->edge_opened));
      supervisor_->handle_retired_unregister_acked(now_, e.leg, r->edge_opened);
      return;
    case stream_edge_open:
    case stream_arrive:
    case stream_close: return deliver_stream_event(e, *r, true);
    default: return;
  }
}

void SimReplica::deliver_stream_event(Event& e, Connection& conn, bool retiring) {
  auto* c = &conn;
  std::string leg = (retiring ? " retiring leg=" : " leg=") + std::to_string(e.leg);
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
      if (retiring) supervisor_->handle_retired_stream_opened(now_, e.leg);
      else supervisor_->handle_stream_opened(now_, e.leg);
      return;
    }
    case stream_close:
      --c->open;
      trace("event: stream closes" + leg);
      if (retiring) supervisor_->handle_retired_stream_closed(now_, e.leg);
      else supervisor_->handle_stream_closed(now_, e.leg);
      return;
    default: return;
  }
}

}  // namespace warren::core::supervisor::test

#include "core/edge/edge_leg_engine.hpp"

#include "core/protocol/messages.hpp"

#include <algorithm>

namespace warren::core {

EdgeLegEngine::EdgeLegEngine(EdgeLegTimings timings, sdk::TimePoint now)
    : timings_(timings), deadline_(now + timings.handshake_timeout) {}

void EdgeLegEngine::handle_registered(sdk::TimePoint now, std::uint32_t peer_version) {
  if (phase_ != EdgeLegPhase::awaiting_registration) return;
  phase_ = EdgeLegPhase::registered;
  peer_version_ = peer_version;
  heartbeat_deadline_ = now + timings_.heartbeat_timeout();
}

void EdgeLegEngine::handle_refused(sdk::TimePoint now) {
  if (phase_ != EdgeLegPhase::awaiting_registration) return;
  phase_ = EdgeLegPhase::refusing;
  deadline_ = now + timings_.refusal_linger;
}

void EdgeLegEngine::handle_heartbeat(sdk::TimePoint now) {
  if (phase_ == EdgeLegPhase::registered || phase_ == EdgeLegPhase::draining)
    heartbeat_deadline_ = now + timings_.heartbeat_timeout();
}

void EdgeLegEngine::handle_unregister(sdk::TimePoint now, sdk::Duration grace) {
  if (phase_ != EdgeLegPhase::registered) return;  // a repeated Unregister changes nothing
  phase_ = EdgeLegPhase::draining;
  deadline_ = now + std::clamp(grace, sdk::Duration::zero(), timings_.max_grace) + timings_.drain_slack;
  // An older connector stops heartbeating once it unregistered; the drain
  // deadline alone bounds it. A newer one keeps beating, so silence still counts.
  if (heartbeats_required()) heartbeat_deadline_ = std::max(heartbeat_deadline_, now + timings_.heartbeat_timeout());
  if (peer_version_ >= protocol::kUnregisterAckVersion) {
    ack_owed_ = true;
    ack_when_settled();
  }
}

void EdgeLegEngine::handle_edge_drain(sdk::TimePoint now, sdk::Duration grace) {
  if (phase_ == EdgeLegPhase::awaiting_registration) return end(sdk::errc::shutting_down, "closed by a reload");
  if (phase_ != EdgeLegPhase::registered && phase_ != EdgeLegPhase::draining) return;
  auto until = now + std::clamp(grace, sdk::Duration::zero(), timings_.max_grace);
  // A drain the connector asked for may already end sooner.
  deadline_ = phase_ == EdgeLegPhase::draining ? std::min(deadline_, until) : until;
  phase_ = EdgeLegPhase::draining;
  end_when_idle_ = true;
  ack_when_settled();
}

void EdgeLegEngine::handle_stream_open_started() { ++opens_in_flight_; }

void EdgeLegEngine::handle_stream_open_finished(bool header_written) {
  if (opens_in_flight_ > 0) --opens_in_flight_;
  if (header_written) {
    ++streams_opened_;
    ++streams_open_;
  }
  ack_when_settled();
}

void EdgeLegEngine::handle_stream_closed() {
  if (streams_open_ > 0) --streams_open_;
  ack_when_settled();
}

// The ack's count must include every stream whose header may reach the
// connector, so it waits for opens under way; and the connector closes the
// connection soon after it, so it waits until the edge has every stream's
// last byte (closing earlier would cut what is still in flight).
void EdgeLegEngine::ack_when_settled() {
  if (end_when_idle_ && opens_in_flight_ == 0 && streams_open_ == 0 && phase_ == EdgeLegPhase::draining) {
    if (ack_owed_) actions_.emplace_back(SendUnregisterAck{streams_opened_});
    return end(sdk::errc::shutting_down, "its streams ended after a reload removed its tunnel or listener");
  }
  if (!ack_owed_ || opens_in_flight_ > 0 || streams_open_ > 0 || phase_ != EdgeLegPhase::draining) return;
  ack_owed_ = false;
  actions_.emplace_back(SendUnregisterAck{streams_opened_});
}

bool EdgeLegEngine::heartbeats_required() const {
  if (phase_ == EdgeLegPhase::registered) return true;
  return phase_ == EdgeLegPhase::draining && peer_version_ >= protocol::kUnregisterAckVersion;
}

void EdgeLegEngine::handle_timeout(sdk::TimePoint now) {
  switch (phase_) {
    case EdgeLegPhase::awaiting_registration:
      if (deadline_ <= now) end(sdk::errc::handshake_timeout, "did not register in time");
      return;
    case EdgeLegPhase::refusing:
      if (deadline_ <= now) end(sdk::errc::shutting_down, "refused; closing");
      return;
    case EdgeLegPhase::registered:
      if (heartbeat_deadline_ <= now) end(sdk::errc::heartbeat_timeout, "no heartbeat; dropping the leg");
      return;
    case EdgeLegPhase::draining:
      if (deadline_ <= now)
        end(sdk::errc::shutting_down, "the grace period of its drain is over; closing the leg");
      else if (heartbeats_required() && heartbeat_deadline_ <= now)
        end(sdk::errc::heartbeat_timeout, "no heartbeat while draining; dropping the leg");
      return;
    case EdgeLegPhase::ended: return;
  }
}

void EdgeLegEngine::handle_ended() {
  phase_ = EdgeLegPhase::ended;
  ack_owed_ = false;
}

void EdgeLegEngine::end(sdk::errc reason, std::string why) {
  phase_ = EdgeLegPhase::ended;
  ack_owed_ = false;
  actions_.emplace_back(EndLeg{reason, std::move(why)});
}

std::optional<EdgeLegAction> EdgeLegEngine::poll_action() {
  if (actions_.empty()) return std::nullopt;
  auto next = std::move(actions_.front());
  actions_.pop_front();
  return next;
}

std::optional<sdk::TimePoint> EdgeLegEngine::next_timeout() const {
  switch (phase_) {
    case EdgeLegPhase::awaiting_registration:
    case EdgeLegPhase::refusing: return deadline_;
    case EdgeLegPhase::registered: return heartbeat_deadline_;
    case EdgeLegPhase::draining:
      return heartbeats_required() ? std::min(deadline_, heartbeat_deadline_) : deadline_;
    case EdgeLegPhase::ended: return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace warren::core

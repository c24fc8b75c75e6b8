#pragma once
// One connector connection at the edge, as a sans-io state machine: has it
// registered in time, is it still heard from, is it draining, and when must
// it end. No socket, no clock: every input takes `now`; EdgeLeg (the Asio
// shell) polls the actions and arms one timer at next_timeout().
//
// Life: awaiting_registration -> registered -> draining -> ended, or
// awaiting_registration -> refusing -> ended. A draining leg is alive until
// the connector closes it (its streams are done) or its grace period (plus a
// little slack) has passed: it gets no new streams and is never evicted, and
// only a connector that promised to keep heartbeating while it drains
// (protocol 2) is held to the heartbeat deadline meanwhile.

#include <warren/sdk/error.hpp>
#include <warren/sdk/time.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <variant>

namespace warren::core {

struct EdgeLegTimings {
  sdk::Duration handshake_timeout = std::chrono::seconds(5);  ///< connection to Register
  sdk::Duration heartbeat_interval = std::chrono::milliseconds(500);  ///< what the edge asks of connectors
  sdk::Duration refusal_linger = std::chrono::seconds(2);  ///< a refusal's time to reach the connector
  sdk::Duration drain_slack = std::chrono::seconds(2);     ///< after the grace: the connector closes first
  sdk::Duration max_grace = std::chrono::hours(1);         ///< cap on a connector's grace period

  /// Silence this long ends a registered leg: many beats, and never under 8 s.
  sdk::Duration heartbeat_timeout() const { return std::max<sdk::Duration>(std::chrono::seconds(8), 16 * heartbeat_interval); }
};

enum class EdgeLegPhase { awaiting_registration, registered, draining, refusing, ended };

/// Answer the connector's Unregister (protocol 2): no more streams come, and
/// every stream opened on this leg has ended at the edge (it has the
/// connector's last byte of each), so the connector may close the connection
/// once its own side of those streams has ended too.
struct SendUnregisterAck {
  std::uint64_t streams_opened = 0;
};

/// Close the connection; `why` is one line for the log.
struct EndLeg {
  sdk::errc reason = sdk::errc::shutting_down;
  std::string why;
};

using EdgeLegAction = std::variant<SendUnregisterAck, EndLeg>;

class EdgeLegEngine {
 public:
  EdgeLegEngine(EdgeLegTimings timings, sdk::TimePoint now);

  /// The registration was admitted; `peer_version` is the connector's protocol.
  void handle_registered(sdk::TimePoint now, std::uint32_t peer_version);
  /// The registration was refused; the connection ends after a short linger.
  void handle_refused(sdk::TimePoint now);
  void handle_heartbeat(sdk::TimePoint now);
  /// The connector unregistered: no new streams; it may drain for `grace`.
  void handle_unregister(sdk::TimePoint now, sdk::Duration grace);
  /// The edge drains this leg on its own (a reload removed its tunnel or
  /// listener): no new streams; it ends once no stream is open or opening,
  /// or when `grace` has passed, whichever comes first. A leg still
  /// registering ends at once.
  void handle_edge_drain(sdk::TimePoint now, sdk::Duration grace);
  /// A data stream is being opened on this leg (before its header is written).
  void handle_stream_open_started();
  /// That open finished; `header_written` when the connector will see the stream.
  void handle_stream_open_finished(bool header_written);
  /// A stream whose header was written has ended at the edge (both directions).
  void handle_stream_closed();
  void handle_timeout(sdk::TimePoint now);
  /// The connection ended for another reason (peer closed, transport error).
  void handle_ended();

  std::optional<EdgeLegAction> poll_action();
  std::optional<sdk::TimePoint> next_timeout() const;

  EdgeLegPhase phase() const { return phase_; }
  /// Only a registered, non-draining leg carries new streams.
  bool accepts_streams() const { return phase_ == EdgeLegPhase::registered; }
  std::uint64_t streams_opened() const { return streams_opened_; }
  /// Streams whose header was written and that have not ended at the edge yet.
  std::uint64_t streams_open() const { return streams_open_; }

 private:
  void end(sdk::errc reason, std::string why);
  void ack_when_settled();
  bool heartbeats_required() const;

  EdgeLegTimings timings_;
  EdgeLegPhase phase_ = EdgeLegPhase::awaiting_registration;
  std::uint32_t peer_version_ = 0;
  sdk::TimePoint deadline_{};            ///< registration, refusal linger, or drain end
  sdk::TimePoint heartbeat_deadline_{};  ///< while heartbeats are required
  std::uint64_t streams_opened_ = 0;
  std::uint64_t streams_open_ = 0;
  std::uint32_t opens_in_flight_ = 0;
  bool ack_owed_ = false;  ///< Unregister arrived; ack once no stream is open or opening
  bool end_when_idle_ = false;  ///< the edge drains it: end once no stream is open or opening
  std::deque<EdgeLegAction> actions_;
};

}  // namespace warren::core

#pragma once
// What the edge knows about one public connection until the connector
// answers its data stream (StreamReply): the client bytes already sent on
// it, kept so they can be replayed on another leg if the stream dies
// unanswered (a SIGKILLed replica whose death the edge has not noticed
// yet), how many legs were tried, and until when trying again is worth it.
// Sans-io: no sockets, no clock but the `now` it is given. ReplayableStream
// is its Asio shell.

#include "core/edge/tunnel_registry.hpp"

#include <warren/sdk/time.hpp>

#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <vector>

namespace warren::core {

struct ReplayLimits {
  /// Client bytes kept until the reply; past this the client is not read.
  std::size_t max_bytes = 64 * 1024;
  /// Streams opened for one public connection, the first included.
  unsigned max_attempts = 3;
  /// No new attempt starts this long after the first stream was opened.
  sdk::Duration deadline = std::chrono::seconds(10);
};

class ReplayState {
 public:
  enum class Phase {
    dispatching,  ///< waiting for a stream on a leg (the first one or a replay)
    waiting,      ///< the stream is open; its reply has not arrived
    accepted,     ///< the reply said yes (or the leg sends none): bytes flow as usual
    given_up,     ///< no attempt left; the client is reset
  };
  enum class Decision { replay, give_up };

  ReplayState(ReplayLimits limits, sdk::TimePoint opened) : limits_(limits), opened_(opened) {}

  /// A stream on `leg` is open; its header is written and the kept bytes
  /// must follow. With `expects_reply` false (a connector without replies)
  /// the stream counts as accepted at once and nothing is kept any more.
  void dispatched(LegId leg, bool expects_reply);
  /// How many of `wanted` client bytes may be sent now: all of them once
  /// accepted; while waiting, what the buffer still holds room for (0: do
  /// not read the client until the reply); 0 while dispatching.
  std::size_t room(std::size_t wanted) const;
  /// Client bytes sent on the current stream before its reply: kept.
  void sent(std::span<const std::uint8_t> bytes);
  /// The reply said yes (or, for a leg that sends none, the kept bytes went
  /// out again): the kept bytes are dropped.
  void accepted();
  /// The stream ended before its reply (reset, end of stream, its leg lost)
  /// or the reply was a refusal: replay on another leg, or give up when the
  /// attempts or the deadline are used up.
  Decision failed(sdk::TimePoint now);
  /// Opening a stream on `leg` failed (the leg ended meanwhile): counts as
  /// an attempt, then decides like failed().
  Decision open_failed(LegId leg, sdk::TimePoint now);
  /// No leg was left to try: give up.
  void no_leg();

  Phase phase() const { return phase_; }
  const std::vector<std::uint8_t>& kept() const { return kept_; }
  const std::set<LegId>& tried() const { return tried_; }
  unsigned attempts() const { return static_cast<unsigned>(attempts_); }
  /// The leg of the current (or last) stream; 0 before the first.
  LegId leg() const { return leg_; }

 private:
  ReplayLimits limits_;
  sdk::TimePoint opened_;
  Phase phase_ = Phase::dispatching;
  std::vector<std::uint8_t> kept_;
  std::set<LegId> tried_;
  std::size_t attempts_ = 0;
  LegId leg_ = 0;
};

}  // namespace warren::core

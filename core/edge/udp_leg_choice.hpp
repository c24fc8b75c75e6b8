#pragma once
// Which leg of a udp tunnel carries a new flow (sans-io, no socket, no
// clock): the live, non-draining leg with the fewest flows, ties taken in
// turn (round robin by leg id), so flows spread over the legs as they come
// and a leg that just joined takes new flows first. A flow stays on the leg
// it was placed on (sticky): the connector's half of the flow, and its
// backend socket, live behind that leg.
//
// It also remembers the legs that live on without a udp channel: over HTTP/2
// the channel is the leg's one udp stream, and when that stream ends (reset)
// while the leg lives, only a new stream brings the leg back to the tunnel.
// The edge opens one when the tunnel has flows or a new client comes (an
// idle tunnel opens nothing), at most once per stream_retry per leg, so a
// connector that keeps resetting them costs a stream a second, no more.

#include <warren/sdk/time.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace warren::core {

class UdpLegChoice {
 public:
  using LegId = std::uint64_t;

  /// Between two udp streams opened on one leg.
  static constexpr sdk::Duration stream_retry = std::chrono::seconds(1);

  /// A leg that can carry flows (its udp channel is up). Adding one that is
  /// there already changes nothing. It waits for no stream any more.
  void add_leg(LegId leg);
  /// The leg takes no new flow; those it carries stay on it. It waits for no stream.
  void drain_leg(LegId leg);
  /// The leg is gone; its flows are the caller's to end. It waits for no stream.
  void remove_leg(LegId leg);

  /// The leg's channel ended but the leg lives: it is removed (as
  /// remove_leg) and waits for a new udp stream.
  void stream_lost(LegId leg);
  /// The legs to open a udp stream on now: those waiting for one, when
  /// `wanted` (the tunnel has flows, or a new client came) and their last
  /// stream was asked for stream_retry before `now` or longer; each is
  /// taken as asked at `now`. Empty when not wanted.
  std::vector<LegId> streams_to_open(sdk::TimePoint now, bool wanted);
  /// Whether `leg` waits for a new udp stream.
  bool waits_for_stream(LegId leg) const { return streamless_.contains(leg); }

  /// The leg for a new flow, or nullopt when no leg can take one. Moves the
  /// round-robin turn: call it once per flow, then flow_placed().
  std::optional<LegId> choose();
  /// Whether choose() would find a leg (the turn does not move).
  bool can_take() const { return taking() > 0; }
  /// Legs that take new flows (added, not draining).
  std::size_t taking() const;
  void flow_placed(LegId leg);
  void flow_ended(LegId leg);

  bool has(LegId leg) const { return legs_.contains(leg); }
  bool draining(LegId leg) const;
  std::size_t flows_on(LegId leg) const;

 private:
  struct Leg {
    std::size_t flows = 0;
    bool draining = false;
  };
  std::map<LegId, Leg> legs_;
  std::optional<LegId> last_chosen_;
  /// Legs without a channel, and when a stream was last asked for (nullopt: never).
  std::map<LegId, std::optional<sdk::TimePoint>> streamless_;
};

}  // namespace warren::core

#pragma once
// Which leg of a udp tunnel carries a new flow (sans-io, no socket, no
// clock): the live, non-draining leg with the fewest flows, ties taken in
// turn (round robin by leg id), so flows spread over the legs as they come
// and a leg that just joined takes new flows first. A flow stays on the leg
// it was placed on (sticky): the connector's half of the flow, and its
// backend socket, live behind that leg.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

namespace warren::core {

class UdpLegChoice {
 public:
  using LegId = std::uint64_t;

  /// A leg that can carry flows (its udp channel is up). Adding one that is
  /// there already changes nothing.
  void add_leg(LegId leg);
  /// The leg takes no new flow; those it carries stay on it.
  void drain_leg(LegId leg);
  /// The leg is gone; its flows are the caller's to end.
  void remove_leg(LegId leg);

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
};

}  // namespace warren::core

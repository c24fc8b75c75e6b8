// Which leg of a udp tunnel carries a new flow: fewest flows, ties in turn,
// never a draining leg.

#include "core/edge/udp_leg_choice.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <vector>

using warren::core::UdpLegChoice;

TEST_CASE("udp leg choice: no leg, no choice") {
  UdpLegChoice choice;
  CHECK_FALSE(choice.can_take());
  CHECK_FALSE(choice.choose());
}

TEST_CASE("udp leg choice: equal legs take new flows in turn") {
  UdpLegChoice choice;
  for (auto leg : {7u, 3u, 5u}) choice.add_leg(leg);
  std::vector<UdpLegChoice::LegId> order;
  for (int i = 0; i < 6; ++i) {
    auto leg = choice.choose();
    REQUIRE(leg);
    choice.flow_placed(*leg);
    order.push_back(*leg);
  }
  CHECK(order == std::vector<UdpLegChoice::LegId>{3, 5, 7, 3, 5, 7});
  for (auto leg : {3u, 5u, 7u}) CHECK(choice.flows_on(leg) == 2);
}

TEST_CASE("udp leg choice: the leg with the fewest flows goes first, a new leg included") {
  UdpLegChoice choice;
  choice.add_leg(1);
  for (int i = 0; i < 3; ++i) choice.flow_placed(*choice.choose());
  choice.add_leg(2);
  // Leg 2 takes the next three: it has fewer until they are even.
  for (int i = 0; i < 3; ++i) {
    auto leg = choice.choose();
    REQUIRE(leg == 2u);
    choice.flow_placed(*leg);
  }
  choice.flow_ended(1);
  CHECK(choice.choose() == 1u);
}

TEST_CASE("udp leg choice: a draining leg takes no new flow and keeps its count") {
  UdpLegChoice choice;
  choice.add_leg(1);
  choice.add_leg(2);
  choice.flow_placed(1);
  choice.drain_leg(2);
  CHECK(choice.draining(2));
  // Leg 2 has fewer flows but drains.
  for (int i = 0; i < 3; ++i) CHECK(choice.choose() == 1u);
  choice.drain_leg(1);
  CHECK_FALSE(choice.can_take());
  CHECK_FALSE(choice.choose());
  CHECK(choice.flows_on(1) == 1);
  choice.flow_ended(1);
  CHECK(choice.flows_on(1) == 0);
}

TEST_CASE("udp leg choice: a removed leg is never chosen again, and the turn goes on") {
  UdpLegChoice choice;
  for (auto leg : {1u, 2u, 3u}) choice.add_leg(leg);
  CHECK(choice.choose() == 1u);
  CHECK(choice.choose() == 2u);
  choice.remove_leg(3);
  CHECK_FALSE(choice.has(3));
  CHECK(choice.choose() == 1u);  // wraps past the gone leg
  choice.flow_placed(3);         // a gone leg is ignored
  CHECK(choice.flows_on(3) == 0);
}

TEST_CASE("udp leg choice: a leg whose stream ended waits for a new one, asked when wanted, once a second") {
  using namespace std::chrono_literals;
  const auto t0 = warren::sdk::TimePoint{} + 1h;
  UdpLegChoice choice;
  choice.add_leg(1);
  choice.add_leg(2);
  choice.flow_placed(1);
  choice.stream_lost(1);
  CHECK_FALSE(choice.has(1));
  CHECK(choice.waits_for_stream(1));
  CHECK(choice.choose() == 2u);  // gone from the choice meanwhile
  // An idle tunnel asks nothing; a wanted one asks once per stream_retry.
  CHECK(choice.streams_to_open(t0, false).empty());
  CHECK(choice.streams_to_open(t0, true) == std::vector<UdpLegChoice::LegId>{1});
  CHECK(choice.streams_to_open(t0 + 500ms, true).empty());
  CHECK(choice.streams_to_open(t0 + UdpLegChoice::stream_retry, true) == std::vector<UdpLegChoice::LegId>{1});
  // The new stream's channel: the leg is back, with no flow, and waits no more.
  choice.add_leg(1);
  CHECK_FALSE(choice.waits_for_stream(1));
  CHECK(choice.flows_on(1) == 0);
  CHECK(choice.streams_to_open(t0 + 5s, true).empty());
  // A leg that drains or ends waits for nothing.
  choice.stream_lost(2);
  choice.drain_leg(2);
  CHECK_FALSE(choice.waits_for_stream(2));
  choice.stream_lost(1);
  choice.remove_leg(1);
  CHECK(choice.streams_to_open(t0 + 10s, true).empty());
}

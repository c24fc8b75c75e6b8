// FlowTable: new limits for live flows (a config reload at the edge,
// FlowTable::update_settings) and the reason the peer's close frame names
// (handle_peer_closed with a reason).
#include "flow_test_support.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace warren::core::udp;
using namespace warren::core::udp::test;

TEST_CASE("udp flows: a shorter idle_timeout applies to live flows, ending at once those already past it",
          "[udp][flows]") {
  FlowSettings settings;
  settings.idle_timeout = 30s;
  FlowTable table(settings);
  const FlowId old_one = table.handle_request(t0, key("198.51.100.7", 40000), bytes("q"));
  const FlowId fresh = table.handle_request(t0 + 8s, key("198.51.100.8", 40000), bytes("q"));
  drain(table);
  CHECK(table.next_timeout() == t0 + 30s);

  settings.idle_timeout = 5s;
  table.update_settings(t0 + 10s, settings);
  // Quiet for 10 s, past the new 5 s: it ends now, idle; the other at t0 + 8s + 5s.
  const auto closes = only<CloseFlow>(drain(table));
  REQUIRE(closes.size() == 1);
  CHECK(closes[0].flow == old_one);
  CHECK(closes[0].reason == CloseReason::idle);
  CHECK_FALSE(closes[0].by_peer);
  CHECK(table.is_live(fresh));
  CHECK(table.next_timeout() == t0 + 13s);
  table.handle_timeout(t0 + 13s);
  CHECK(only<CloseFlow>(drain(table)).size() == 1);
  CHECK(table.size() == 0);
  CHECK(table.settings().idle_timeout == 5s);
}

TEST_CASE("udp flows: a longer idle_timeout and a new lifetime apply to live flows", "[udp][flows]") {
  FlowSettings settings;
  settings.idle_timeout = 10s;
  FlowTable table(settings);
  const FlowId id = table.handle_request(t0, key("198.51.100.7", 40000), bytes("q"));
  drain(table);
  settings.idle_timeout = 60s;
  settings.max_lifetime = 20s;
  table.update_settings(t0 + 5s, settings);
  CHECK(drain(table).empty());
  table.handle_timeout(t0 + 10s);  // the old deadline passes: nothing ends
  CHECK(drain(table).empty());
  CHECK(table.info(id)->deadline == t0 + 20s);
  table.handle_timeout(t0 + 20s);
  const auto closes = only<CloseFlow>(drain(table));
  REQUIRE(closes.size() == 1);
  CHECK(closes[0].reason == CloseReason::lifetime);
}

TEST_CASE("udp flows: new request and response counts apply to live flows, new caps to new flows",
          "[udp][flows]") {
  FlowSettings settings;
  FlowTable table(settings);
  const FlowKey alice = key("198.51.100.7", 40000), bob = key("198.51.100.7", 40001);
  const FlowId a = table.handle_request(t0, alice, bytes("1"));
  table.handle_request(t0, alice, bytes("2"));
  const FlowId b = table.handle_request(t0, bob, bytes("1"));
  drain(table);

  settings.max_requests = 2;
  settings.max_responses = 1;
  settings.max_flows_per_source = 1;  // two flows of one source already: both stay
  table.update_settings(t0 + 1s, settings);
  CHECK(drain(table).empty());
  CHECK(table.size() == 2);
  CHECK(table.info(a)->requests_done);

  // alice carried 2 requests: her next datagram ends that flow (requests)
  // and would begin another, which the source cap now refuses.
  CHECK(table.handle_request(t0 + 2s, alice, bytes("3")) == 0);
  auto actions = drain(table);
  REQUIRE(only<CloseFlow>(actions).size() == 1);
  CHECK(only<CloseFlow>(actions)[0].reason == CloseReason::requests);
  REQUIRE(only<DropDatagram>(actions).size() == 1);
  CHECK(only<DropDatagram>(actions)[0].reason == DropReason::source_cap);

  // bob's first response is his flow's last.
  table.handle_response(t0 + 3s, b, bytes("a"));
  actions = drain(table);
  REQUIRE(only<CloseFlow>(actions).size() == 1);
  CHECK(only<CloseFlow>(actions)[0].reason == CloseReason::responses);
}

TEST_CASE("udp flows: settings find_problem refuses leave the table as it was", "[udp][flows]") {
  FlowSettings settings;
  settings.open_step = true;
  FlowTable table(settings);
  table.handle_request(t0, key("198.51.100.7", 40000), bytes("q"));
  drain(table);
  FlowSettings bad;
  bad.idle_timeout = 0s;
  CHECK_THROWS_AS(table.update_settings(t0 + 1s, bad), std::invalid_argument);
  CHECK(table.settings().idle_timeout == 30s);
  // open_step is the table's own: new settings never change it.
  FlowSettings fine;
  fine.idle_timeout = 20s;
  table.update_settings(t0 + 1s, fine);
  CHECK(table.settings().open_step);
  CHECK(table.size() == 1);
}

TEST_CASE("udp flows: the peer's close names its reason, counted as such, and no close goes back", "[udp][flows]") {
  FlowTable table(FlowSettings{});
  const FlowId refused = table.handle_request(t0, key("198.51.100.7", 40000), bytes("q"));
  const FlowId plain = table.handle_request(t0, key("198.51.100.7", 40001), bytes("q"));
  drain(table);
  table.handle_peer_closed(t0 + 1s, refused, CloseReason::backend_refused);
  table.handle_peer_closed(t0 + 1s, plain);
  const auto closes = only<CloseFlow>(drain(table));
  REQUIRE(closes.size() == 2);
  CHECK(closes[0].reason == CloseReason::backend_refused);
  CHECK(closes[0].by_peer);
  CHECK(closes[1].reason == CloseReason::peer_closed);
  CHECK(closes[1].by_peer);
  CHECK(table.counters().closed(CloseReason::backend_refused) == 1);
  CHECK(table.counters().closed(CloseReason::peer_closed) == 1);
}

// FlowTable: the caps (per table, per source, IPv6 /64), settings checks,
// late timers and a clock that goes back.
#include "flow_test_support.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace warren::core::udp;
using namespace warren::core::udp::test;

TEST_CASE("udp flows: a full table drops a new client's datagram and keeps the flows it has", "[udp][flows]") {
  FlowSettings settings;
  settings.max_flows = 2;
  FlowTable table(settings);
  const FlowId a = table.handle_request(t0, key("192.0.2.1", 1), bytes("a"));
  table.handle_request(t0, key("192.0.2.2", 1), bytes("b"));
  CHECK(table.handle_request(t0, key("192.0.2.3", 1), bytes("ccc")) == 0);
  auto drops = only<DropDatagram>(drain(table));
  REQUIRE(drops.size() == 1);
  CHECK(drops[0].reason == DropReason::table_full);
  CHECK(drops[0].bytes == 3);
  CHECK(table.handle_request(t0, key("192.0.2.1", 1), bytes("a")) == a);  // a known flow still goes
  table.handle_peer_closed(t0, a);
  CHECK(table.handle_request(t0, key("192.0.2.3", 1), bytes("c")) != 0);
  CHECK(table.counters().drops(DropReason::table_full) == 1);
}

TEST_CASE("udp flows: the per-source cap counts an IPv4 address across its ports", "[udp][flows]") {
  FlowSettings settings;
  settings.max_flows_per_source = 2;
  FlowTable table(settings);
  const FlowId first = table.handle_request(t0, key("203.0.113.9", 1000), bytes("x"));
  table.handle_request(t0, key("203.0.113.9", 1001), bytes("x"));
  CHECK(table.handle_request(t0, key("203.0.113.9", 1002), bytes("x")) == 0);
  // IPv4-mapped IPv6 is the same source.
  CHECK(table.handle_request(t0, key("::ffff:203.0.113.9", 1003), bytes("x")) == 0);
  CHECK(table.handle_request(t0, key("203.0.113.10", 1002), bytes("x")) != 0);
  // On the connector the same client through another edge is still one source.
  CHECK(table.handle_request(t0, key("203.0.113.9", 1000, 1), bytes("x")) == 0);
  CHECK(table.source_flows(boost::asio::ip::make_address("203.0.113.9")) == 2);
  CHECK(table.counters().drops(DropReason::source_cap) == 3);
  table.handle_peer_closed(t0, first);
  CHECK(table.handle_request(t0, key("203.0.113.9", 1002), bytes("x")) != 0);
}

TEST_CASE("udp flows: the per-source cap groups IPv6 clients by /64", "[udp][flows]") {
  FlowSettings settings;
  settings.max_flows_per_source = 2;
  FlowTable table(settings);
  CHECK(table.handle_request(t0, key("2001:db8:1:2::1", 53), bytes("x")) != 0);
  CHECK(table.handle_request(t0, key("2001:db8:1:2:ffff:ffff:ffff:fffe", 53), bytes("x")) != 0);
  CHECK(table.handle_request(t0, key("2001:db8:1:2:abcd::7", 54), bytes("x")) == 0);  // same /64
  CHECK(table.handle_request(t0, key("2001:db8:1:3::1", 53), bytes("x")) != 0);       // the next /64
  CHECK(table.source_flows(boost::asio::ip::make_address("2001:db8:1:2::99")) == 2);
  CHECK(source_prefix(boost::asio::ip::make_address("2001:db8:1:2::1")) ==
        source_prefix(boost::asio::ip::make_address("2001:db8:1:2:8000::")));
  CHECK_FALSE(source_prefix(boost::asio::ip::make_address("2001:db8:1:2::1")) ==
              source_prefix(boost::asio::ip::make_address("2001:db8:1:3::1")));
  CHECK(source_prefix(boost::asio::ip::make_address("::ffff:10.0.0.1")) ==
        source_prefix(boost::asio::ip::make_address("10.0.0.1")));
  CHECK_FALSE(source_prefix(boost::asio::ip::make_address("10.0.0.1")) ==
              source_prefix(boost::asio::ip::make_address("10.0.0.2")));
}

TEST_CASE("udp flows: max_flows_per_source 0 means no per-source cap", "[udp][flows]") {
  FlowSettings settings;
  settings.max_flows_per_source = 0;
  settings.max_flows = 500;
  FlowTable table(settings);
  for (unsigned short port = 1; port <= 500; ++port) {
    REQUIRE(table.handle_request(t0, key("192.0.2.1", port), bytes("x")) != 0);
  }
  CHECK(table.handle_request(t0, key("192.0.2.1", 501), bytes("x")) == 0);  // the table's cap still holds
}

TEST_CASE("udp flows: settings out of range are refused when the table is made", "[udp][flows]") {
  FlowSettings settings;
  CHECK_FALSE(find_problem(settings));
  settings.idle_timeout = 0s;
  CHECK(find_problem(settings) == "idle_timeout must be > 0");
  CHECK_THROWS_AS(FlowTable(settings), std::invalid_argument);
  settings = FlowSettings{};
  settings.max_flows = 0;
  CHECK(find_problem(settings) == "max_flows must be >= 1");
  settings = FlowSettings{};
  settings.max_lifetime = -1s;
  CHECK(find_problem(settings));
  settings = FlowSettings{};
  settings.idle_timeout = std::chrono::hours(24 * 8);
  CHECK(find_problem(settings) == "idle_timeout must be at most 7 days");
}

TEST_CASE("udp flows: a datagram after a flow's deadline finds it ended even before the timer ran", "[udp][flows]") {
  FlowSettings settings;
  settings.idle_timeout = 10s;
  FlowTable table(settings);
  const FlowKey client = key("198.51.100.7", 40000);
  const FlowId id = table.handle_request(t0, client, bytes("q"));
  drain(table);
  // The process slept (a suspended laptop): the clock jumps a minute.
  const FlowId next = table.handle_request(t0 + 60s, client, bytes("q"));
  auto actions = drain(table);
  REQUIRE(actions.size() == 2);
  CHECK(std::get<CloseFlow>(actions[0]).flow == id);
  CHECK(std::get<CloseFlow>(actions[0]).reason == CloseReason::idle);
  CHECK(std::get<ForwardRequest>(actions[1]).flow == next);
  // A late response for the ended flow is dropped, and the due one is ended first.
  table.handle_response(t0 + 200s, next, bytes("late"));
  actions = drain(table);
  REQUIRE(actions.size() == 2);
  CHECK(std::get<CloseFlow>(actions[0]).reason == CloseReason::idle);
  CHECK(std::get<DropDatagram>(actions[1]).reason == DropReason::unknown_flow);
  CHECK(std::get<DropDatagram>(actions[1]).flow == next);
}

TEST_CASE("udp flows: a clock that goes back is taken as the latest time seen", "[udp][flows]") {
  FlowSettings settings;
  settings.idle_timeout = 10s;
  FlowTable table(settings);
  const FlowKey client = key("198.51.100.7", 40000);
  const FlowId id = table.handle_request(t0 + 5s, client, bytes("q"));
  table.handle_request(t0, client, bytes("q"));  // "earlier": counts as t0 + 5 s
  CHECK(table.info(id)->deadline == t0 + 15s);
  table.handle_timeout(t0 + 14s);
  CHECK(table.is_live(id));
  table.handle_timeout(t0 + 15s);
  CHECK_FALSE(table.is_live(id));
}

TEST_CASE("udp flows: reason names are stable and every reason has one", "[udp][flows]") {
  CHECK(name(CloseReason::idle) == "idle");
  CHECK(name(CloseReason::lifetime) == "lifetime");
  CHECK(name(CloseReason::requests) == "requests");
  CHECK(name(CloseReason::responses) == "responses");
  CHECK(name(CloseReason::backend_refused) == "backend_refused");
  CHECK(name(CloseReason::peer_closed) == "peer_closed");
  CHECK(name(CloseReason::shutdown) == "shutdown");
  CHECK(name(CloseReason::leg_lost) == "leg_lost");
  CHECK(name(DropReason::table_full) == "table_full");
  CHECK(name(DropReason::source_cap) == "source_cap");
  CHECK(name(DropReason::opening) == "opening");
  CHECK(name(DropReason::unknown_flow) == "unknown_flow");
  CHECK(name(DropReason::flow_closed) == "flow_closed");
  for (const CloseReason reason : all_close_reasons) {
    CHECK(close_reason_from_wire(to_wire(reason)) == reason);
  }
  CHECK_FALSE(close_reason_from_wire(0));
  CHECK_FALSE(close_reason_from_wire(200));
}

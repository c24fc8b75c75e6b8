// FlowTable: each way a flow ends, the counts, the open step and its
// one-datagram buffer, generation tokens.
#include "flow_test_support.hpp"

#include <catch2/catch.hpp>

using namespace warren::core::udp;
using namespace warren::core::udp::test;

TEST_CASE("udp flows: a first datagram opens a flow that forwards both ways at once on the edge", "[udp][flows]") {
  FlowTable table(FlowSettings{});
  const FlowKey client = key("198.51.100.7", 40000);
  const FlowId id = table.handle_request(t0, client, bytes("q1"));
  REQUIRE(id != 0);
  auto actions = drain(table);
  REQUIRE(actions.size() == 1);
  const auto& first = std::get<ForwardRequest>(actions[0]);
  CHECK(first.flow == id);
  CHECK(first.key == client);
  CHECK(first.first);
  CHECK(text(first.payload) == "q1");

  CHECK(table.handle_request(t0 + 1s, client, bytes("q2")) == id);
  actions = drain(table);
  REQUIRE(actions.size() == 1);
  CHECK_FALSE(std::get<ForwardRequest>(actions[0]).first);

  table.handle_response(t0 + 2s, id, bytes("a1"));
  actions = drain(table);
  REQUIRE(actions.size() == 1);
  const auto& answer = std::get<ForwardResponse>(actions[0]);
  CHECK(answer.key == client);
  CHECK(text(answer.payload) == "a1");
  CHECK(table.counters().requests == 2);
  CHECK(table.counters().responses == 1);
  CHECK(table.counters().request_bytes == 4);
  CHECK(table.counters().flows_opened == 1);
}

TEST_CASE("udp flows: a quiet flow ends idle_timeout after its last datagram either way", "[udp][flows]") {
  FlowSettings settings;
  settings.idle_timeout = 10s;
  FlowTable table(settings);
  const FlowId id = table.handle_request(t0, key("198.51.100.7", 40000), bytes("q"));
  CHECK(table.next_timeout() == t0 + 10s);
  table.handle_response(t0 + 8s, id, bytes("a"));  // a response is activity too
  drain(table);
  table.handle_timeout(t0 + 10s);  // the first timer comes due early and is re-armed
  CHECK(drain(table).empty());
  CHECK(table.is_live(id));
  CHECK(table.next_timeout() == t0 + 18s);
  table.handle_timeout(t0 + 18s);
  const auto closes = only<CloseFlow>(drain(table));
  REQUIRE(closes.size() == 1);
  CHECK(closes[0].flow == id);
  CHECK(closes[0].reason == CloseReason::idle);
  CHECK(closes[0].summary.requests == 1);
  CHECK(closes[0].summary.responses == 1);
  CHECK(table.size() == 0);
  CHECK_FALSE(table.next_timeout());
  CHECK(table.counters().closed(CloseReason::idle) == 1);
}

TEST_CASE("udp flows: a busy flow ends at max_lifetime", "[udp][flows]") {
  FlowSettings settings;
  settings.idle_timeout = 5s;
  settings.max_lifetime = 12s;
  FlowTable table(settings);
  const FlowKey client = key("198.51.100.7", 40000);
  const FlowId id = table.handle_request(t0, client, bytes("q"));
  for (int second = 2; second <= 10; second += 2) {
    table.handle_request(t0 + std::chrono::seconds(second), client, bytes("q"));
    table.handle_timeout(t0 + std::chrono::seconds(second));
  }
  CHECK(table.is_live(id));
  CHECK(table.info(id)->deadline == t0 + 12s);
  table.handle_timeout(t0 + 12s);
  const auto closes = only<CloseFlow>(drain(table));
  REQUIRE(closes.size() == 1);
  CHECK(closes[0].reason == CloseReason::lifetime);
}

TEST_CASE("udp flows: a DNS flow (1 request, 1 response) ends right after its answer", "[udp][flows]") {
  FlowSettings settings;
  settings.max_requests = 1;
  settings.max_responses = 1;
  FlowTable table(settings);
  const FlowKey client = key("198.51.100.7", 40000);
  const FlowId id = table.handle_request(t0, client, bytes("query"));
  drain(table);
  table.handle_response(t0 + 20ms, id, bytes("answer"));
  const auto actions = drain(table);
  REQUIRE(actions.size() == 2);
  CHECK(text(std::get<ForwardResponse>(actions[0]).payload) == "answer");
  CHECK(std::get<CloseFlow>(actions[1]).reason == CloseReason::responses);
  CHECK(table.size() == 0);
  // The same client port asks again: a new flow.
  const FlowId next = table.handle_request(t0 + 1s, client, bytes("query 2"));
  CHECK(next > id);
  CHECK(table.counters().closed(CloseReason::responses) == 1);
}

TEST_CASE("udp flows: max_requests stops forwarding requests, keeps the answers, and a new request begins a new flow",
          "[udp][flows]") {
  FlowSettings settings;
  settings.idle_timeout = 10s;
  settings.max_requests = 2;
  FlowTable table(settings);
  const FlowKey client = key("198.51.100.7", 40000);
  const FlowId id = table.handle_request(t0, client, bytes("r1"));
  table.handle_request(t0 + 1s, client, bytes("r2"));
  CHECK(table.info(id)->requests_done);
  table.handle_response(t0 + 2s, id, bytes("a1"));  // still carried
  auto actions = drain(table);
  CHECK(only<ForwardRequest>(actions).size() == 2);
  CHECK(only<ForwardResponse>(actions).size() == 1);

  const FlowId next = table.handle_request(t0 + 3s, client, bytes("r3"));
  actions = drain(table);
  REQUIRE(actions.size() == 2);
  CHECK(std::get<CloseFlow>(actions[0]).flow == id);
  CHECK(std::get<CloseFlow>(actions[0]).reason == CloseReason::requests);
  CHECK(std::get<ForwardRequest>(actions[1]).flow == next);
  CHECK(std::get<ForwardRequest>(actions[1]).first);

  // Done with its requests and then quiet: it ends as `requests`, not `idle`.
  table.handle_request(t0 + 4s, client, bytes("r4"));
  CHECK(table.info(next)->requests_done);
  table.handle_timeout(t0 + 14s);
  const auto closes = only<CloseFlow>(drain(table));
  REQUIRE(closes.size() == 1);
  CHECK(closes[0].reason == CloseReason::requests);
  CHECK(table.counters().closed(CloseReason::requests) == 2);
}

TEST_CASE("udp flows: with the open step one datagram waits for the backend, more are dropped", "[udp][flows]") {
  FlowSettings settings;
  settings.open_step = true;
  FlowTable table(settings);
  const FlowKey client = key("198.51.100.7", 40000, 1);
  const FlowId id = table.handle_request(t0, client, bytes("first"), 77);
  auto actions = drain(table);
  REQUIRE(actions.size() == 1);
  CHECK(std::get<OpenFlow>(actions[0]).flow == id);
  CHECK(table.info(id)->holds_datagram);
  CHECK_FALSE(table.info(id)->open);

  CHECK(table.handle_request(t0 + 1ms, client, bytes("second"), 77) == 0);
  table.handle_response(t0 + 2ms, id, bytes("too early"));  // nothing is open to answer yet
  actions = drain(table);
  REQUIRE(actions.size() == 2);
  CHECK(std::get<DropDatagram>(actions[0]).reason == DropReason::opening);
  CHECK(std::get<DropDatagram>(actions[0]).bytes == 6);
  CHECK(std::get<DropDatagram>(actions[1]).reason == DropReason::unknown_flow);

  table.handle_opened(t0 + 5ms, id);
  actions = drain(table);
  REQUIRE(actions.size() == 1);
  const auto& forwarded = std::get<ForwardRequest>(actions[0]);
  CHECK(text(forwarded.payload) == "first");
  CHECK(forwarded.first);
  CHECK(forwarded.peer_flow == 77);
  table.handle_opened(t0 + 6ms, id);  // a second answer changes nothing
  CHECK(drain(table).empty());

  table.handle_response(t0 + 7ms, id, bytes("answer"));
  actions = drain(table);
  REQUIRE(actions.size() == 1);
  CHECK(std::get<ForwardResponse>(actions[0]).peer_flow == 77);
  CHECK(table.counters().drops(DropReason::opening) == 1);
  CHECK(table.counters().dropped_bytes[static_cast<std::size_t>(DropReason::opening)] == 6);
}

TEST_CASE("udp flows: a backend that cannot open or refuses later ends the flow as backend_refused", "[udp][flows]") {
  FlowSettings settings;
  settings.open_step = true;
  FlowTable table(settings);
  const FlowId refused = table.handle_request(t0, key("198.51.100.7", 40000), bytes("lost"));
  drain(table);
  table.handle_open_failed(t0 + 1ms, refused);
  auto actions = drain(table);
  REQUIRE(actions.size() == 2);
  CHECK(std::get<DropDatagram>(actions[0]).reason == DropReason::flow_closed);  // its buffered datagram, first
  CHECK(std::get<CloseFlow>(actions[1]).reason == CloseReason::backend_refused);
  CHECK_FALSE(std::get<CloseFlow>(actions[1]).was_open);

  const FlowId later = table.handle_request(t0 + 2ms, key("198.51.100.7", 40001), bytes("q"));
  table.handle_opened(t0 + 3ms, later);
  table.handle_open_failed(t0 + 4ms, later);  // not opening any more: ignored
  CHECK(table.is_live(later));
  table.handle_backend_refused(t0 + 5ms, later);
  actions = drain(table);
  const auto closes = only<CloseFlow>(actions);
  REQUIRE(closes.size() == 1);
  CHECK(closes[0].reason == CloseReason::backend_refused);
  CHECK(closes[0].was_open);
  CHECK(table.counters().closed(CloseReason::backend_refused) == 2);
}

TEST_CASE("udp flows: the peer ends a flow by a close frame or by beginning another for the client", "[udp][flows]") {
  FlowSettings settings;
  settings.open_step = true;
  FlowTable table(settings);
  const FlowKey client = key("2001:db8::5", 5353, 2);
  const FlowId id = table.handle_request(t0, client, bytes("q"), 10);
  table.handle_opened(t0, id);
  CHECK(table.find_peer(2, 10) == id);
  CHECK_FALSE(table.find_peer(1, 10));
  drain(table);

  // The edge ended flow 10 and its close frame was lost; flow 11 is the same client's.
  const FlowId next = table.handle_request(t0 + 1s, client, bytes("q2"), 11);
  auto actions = drain(table);
  REQUIRE(actions.size() == 2);
  CHECK(std::get<CloseFlow>(actions[0]).flow == id);
  CHECK(std::get<CloseFlow>(actions[0]).reason == CloseReason::peer_closed);
  CHECK(std::get<CloseFlow>(actions[0]).peer_flow == 10);
  CHECK(std::get<OpenFlow>(actions[1]).flow == next);
  CHECK(table.find_peer(2, 11) == next);
  CHECK_FALSE(table.find_peer(2, 10));

  table.handle_peer_closed(t0 + 2s, next);
  CHECK(std::get<CloseFlow>(drain(table).at(1)).reason == CloseReason::peer_closed);
  table.handle_peer_closed(t0 + 3s, next);  // already ended
  CHECK(drain(table).empty());
  CHECK(table.counters().closed(CloseReason::peer_closed) == 2);
}

TEST_CASE("udp flows: close_all ends every flow once and leaves the table empty but usable", "[udp][flows]") {
  FlowTable table(FlowSettings{});
  for (unsigned short port = 1000; port < 1005; ++port) table.handle_request(t0, key("192.0.2.1", port), bytes("x"));
  drain(table);
  table.close_all(t0 + 1s);
  const auto closes = only<CloseFlow>(drain(table));
  REQUIRE(closes.size() == 5);
  for (std::size_t i = 0; i < closes.size(); ++i) {
    CHECK(closes[i].reason == CloseReason::shutdown);
    CHECK(closes[i].flow == i + 1);  // in id order
  }
  CHECK(table.size() == 0);
  CHECK_FALSE(table.next_timeout());
  CHECK(table.source_flows(boost::asio::ip::make_address("192.0.2.1")) == 0);
  CHECK(table.handle_request(t0 + 2s, key("192.0.2.1", 1000), bytes("x")) == 6);
}

TEST_CASE("udp flows: an old flow's timer does not end a newer flow of the same client", "[udp][flows]") {
  FlowSettings settings;
  settings.idle_timeout = 10s;
  FlowTable table(settings);
  const FlowKey client = key("198.51.100.7", 40000);
  const FlowKey other = key("198.51.100.8", 40000);
  table.handle_request(t0, other, bytes("q"));                          // its entry: due t0 + 10 s, on top
  const FlowId old_flow = table.handle_request(t0 + 1s, client, bytes("q"));  // due t0 + 11 s, beneath
  table.handle_peer_closed(t0 + 2s, old_flow);  // its entry stays buried in the heap
  const FlowId new_flow = table.handle_request(t0 + 3s, client, bytes("q"));  // same key, due t0 + 13 s
  table.handle_request(t0 + 9s, other, bytes("q"));
  drain(table);
  CHECK(table.next_timeout() == t0 + 10s);
  table.handle_timeout(t0 + 11s);  // other's entry re-arms; the old flow's entry is stale
  CHECK(drain(table).empty());
  CHECK(table.is_live(new_flow));
  CHECK(table.next_timeout() == t0 + 13s);
  table.handle_timeout(t0 + 13s);
  const auto closes = only<CloseFlow>(drain(table));
  REQUIRE(closes.size() == 1);
  CHECK(closes[0].flow == new_flow);
  CHECK(closes[0].reason == CloseReason::idle);
  CHECK(table.next_timeout() == t0 + 19s);
}

TEST_CASE("udp flows: close_flow and close_origin end the flows they name, once, with the reason given", "[udp][flows]") {
  FlowTable table(FlowSettings{});
  const FlowId a = table.handle_request(t0, key("192.0.2.1", 1000, 1), bytes("a"), 11);
  const FlowId b = table.handle_request(t0, key("192.0.2.1", 1000, 2), bytes("b"), 12);
  const FlowId c = table.handle_request(t0, key("192.0.2.1", 1001, 1), bytes("c"), 13);
  drain(table);
  CHECK(table.origin_flows(1) == 2);  // a leg's flows_open in the connector's /status
  CHECK(table.origin_flows(2) == 1);
  CHECK(table.origin_flows(3) == 0);

  table.close_flow(t0 + 1s, b, CloseReason::leg_lost);
  auto closes = only<CloseFlow>(drain(table));
  REQUIRE(closes.size() == 1);
  CHECK(closes[0].flow == b);
  CHECK(closes[0].reason == CloseReason::leg_lost);
  table.close_flow(t0 + 1s, b, CloseReason::leg_lost);  // already ended
  CHECK(drain(table).empty());

  CHECK(table.close_origin(t0 + 2s, 1, CloseReason::leg_lost) == 2);
  closes = only<CloseFlow>(drain(table));
  REQUIRE(closes.size() == 2);
  CHECK(closes[0].flow == a);  // in id order
  CHECK(closes[1].flow == c);
  CHECK(table.size() == 0);
  CHECK(table.counters().closed(CloseReason::leg_lost) == 3);
  CHECK(table.close_origin(t0 + 3s, 1, CloseReason::leg_lost) == 0);
  CHECK(table.origin_flows(1) == 0);
}

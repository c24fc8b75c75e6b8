// A udp tunnel's edge shell against real sockets: public clients on
// loopback UDP, and legs whose channels are stream channels over unix
// socket pairs, with the test playing the connector on the far end (it
// decodes what the edge sends and answers with flow frames).

#include "udp_tunnel_fixture.hpp"

using namespace warren;
using namespace warren::test::udp_tunnel;

TEST_CASE("udp tunnel: a client's datagram goes to the connector as a request frame and the answer comes back") {
  Fixture f;
  auto& leg = f.add_leg(1);
  auto alice = f.client();
  auto request = f.request_from(leg, alice, "query");
  CHECK(request.client == alice.local_endpoint());
  CHECK(request.payload.size() == 5);
  CHECK(f.tunnel->flows() == 1);

  leg.respond(request.flow, "answer");
  CHECK(f.receive(alice) == "answer");

  // The same client again: the same flow.
  CHECK(f.request_from(leg, alice, "again").flow == request.flow);

  auto stats = f.tunnel->stats();
  CHECK(stats.flows_active == 1);
  CHECK(stats.flows_opened == 1);
  CHECK(stats.datagrams_in == 2);
  CHECK(stats.bytes_in == 10);
  CHECK(stats.datagrams_out == 1);
  CHECK(stats.bytes_out == 6);
}

TEST_CASE("udp tunnel: with no leg a new client's datagram is dropped as no_leg") {
  Fixture f;
  auto alice = f.client();
  f.send(alice, "lost");
  f.run_until([&] { return f.tunnel->stats().datagrams_in == 1; });
  auto stats = f.tunnel->stats();
  CHECK(stats.dropped_no_leg == 1);
  CHECK(stats.flows_opened == 0);
  CHECK(f.tunnel->flows() == 0);
}

TEST_CASE("udp tunnel: new flows spread over the legs and stay on theirs, and a lost leg ends its flows") {
  Fixture f;
  auto& one = f.add_leg(1);
  auto& two = f.add_leg(2);
  std::vector<udp::socket> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(f.client());
  for (auto& c : clients) f.send(c, "hello");
  f.run_until([&] { return one.frames.size() + two.frames.size() == 4; });
  CHECK(one.frames.size() == 2);
  CHECK(two.frames.size() == 2);
  CHECK(f.tunnel->flows_on(1) == 2);
  CHECK(f.tunnel->flows_on(2) == 2);
  CHECK(f.tunnel->legs_taking_flows() == 2);

  // Sticky: a client's next datagram goes where its first went.
  auto first_on_two = std::get<core::udp::RequestFrame>(two.pop());
  auto& sticky = first_on_two.client == clients[0].local_endpoint()   ? clients[0]
                 : first_on_two.client == clients[1].local_endpoint() ? clients[1]
                 : first_on_two.client == clients[2].local_endpoint() ? clients[2]
                                                                      : clients[3];
  f.send(sticky, "more");
  f.run_until([&] { return two.frames.size() == 2; });
  CHECK(one.frames.size() == 2);

  f.tunnel->remove_leg(2);
  auto stats = f.tunnel->stats();
  CHECK(stats.flows_closed[static_cast<std::size_t>(CloseReason::leg_lost)] == 2);
  CHECK(f.tunnel->flows() == 2);
  CHECK_FALSE(f.tunnel->holds_leg(2));
  f.run_until([&] { return bool(two.ended); });  // its stream was closed

  // The client of a lost flow begins a new one, on the leg that is left.
  f.send(sticky, "anew");
  f.run_until([&] { return one.frames.size() == 3; });
  CHECK(f.tunnel->flows_on(1) == 3);
}

TEST_CASE("udp tunnel: a malformed frame is dropped and counted, and the leg goes on") {
  Fixture f;
  auto& leg = f.add_leg(1);
  auto alice = f.client();
  auto flow = f.request_from(leg, alice, "q").flow;

  std::vector<std::byte> junk{std::byte{0x7f}, std::byte{0x01}};
  REQUIRE(leg.channel->send(junk));
  std::vector<std::byte> request;  // requests only go edge -> connector
  REQUIRE(core::udp::encode_request(flow, alice.local_endpoint(), bytes_of("x"), request));
  REQUIRE(leg.channel->send(request));
  leg.respond(flow + 100, "nobody's");  // a flow this edge does not have
  leg.respond(flow, "fine");
  CHECK(f.receive(alice) == "fine");
  auto stats = f.tunnel->stats();
  CHECK(stats.dropped_malformed == 2);
  CHECK(stats.dropped[static_cast<std::size_t>(DropReason::unknown_flow)] == 1);
  CHECK(f.tunnel->holds_leg(1));
}

TEST_CASE("udp tunnel: flows end on the connector's close frame and on their own counts, telling the connector") {
  core::udp::FlowSettings dns;
  dns.max_requests = 1;
  dns.max_responses = 1;
  Fixture f(dns);
  auto& leg = f.add_leg(1);
  auto alice = f.client();
  auto bob = f.client();
  f.send(alice, "q1");
  f.send(bob, "q2");
  f.run_until([&] { return leg.frames.size() == 2; });
  auto a = std::get<core::udp::RequestFrame>(leg.pop());
  auto b = std::get<core::udp::RequestFrame>(leg.pop());

  // The answer ends the flow (responses = 1): the edge says so.
  leg.respond(a.flow, "a1");
  CHECK(f.receive(a.client == alice.local_endpoint() ? alice : bob) == "a1");
  f.run_until([&] { return !leg.frames.empty(); });
  auto close = std::get<core::udp::CloseFrame>(leg.pop());
  CHECK(close.flow == a.flow);
  CHECK(core::udp::close_reason_from_wire(close.reason) == CloseReason::responses);

  // The connector ends the other: counted under the reason its frame names, no close frame back.
  leg.close_flow(b.flow, CloseReason::backend_refused);
  f.run_until([&] { return f.tunnel->flows() == 0; });
  auto stats = f.tunnel->stats();
  CHECK(stats.flows_closed[static_cast<std::size_t>(CloseReason::responses)] == 1);
  CHECK(stats.flows_closed[static_cast<std::size_t>(CloseReason::backend_refused)] == 1);
  CHECK(stats.flows_closed[static_cast<std::size_t>(CloseReason::peer_closed)] == 0);
  CHECK(leg.frames.empty());
}

TEST_CASE("udp tunnel: an idle flow ends on the timer with a close frame") {
  core::udp::FlowSettings quick;
  quick.idle_timeout = 100ms;
  Fixture f(quick);
  auto& leg = f.add_leg(1);
  auto alice = f.client();
  f.send(alice, "q");
  f.run_until([&] { return leg.frames.size() == 2; });  // the request, then the close
  auto flow = std::get<core::udp::RequestFrame>(leg.pop()).flow;
  auto close = std::get<core::udp::CloseFrame>(leg.pop());
  CHECK(close.flow == flow);
  CHECK(core::udp::close_reason_from_wire(close.reason) == CloseReason::idle);
  CHECK(f.tunnel->flows() == 0);
}

TEST_CASE("udp tunnel: a draining leg takes no new flow and lets its channel go after its last flow") {
  Fixture f;
  auto& one = f.add_leg(1);
  auto alice = f.client();
  auto flow = f.request_from(one, alice, "q").flow;

  auto& two = f.add_leg(2);
  f.tunnel->drain_leg(1);
  CHECK(f.tunnel->holds_leg(1));  // its flow still runs
  CHECK(f.tunnel->legs_taking_flows() == 1);
  auto bob = f.client();
  f.request_from(two, bob, "q");
  CHECK(one.frames.empty());

  one.close_flow(flow, CloseReason::idle);
  f.run_until([&] { return bool(one.ended); });  // its udp stream closed: the drain is not held up
  CHECK_FALSE(f.tunnel->holds_leg(1));
  CHECK(f.tunnel->holds_leg(2));

  // A draining leg with no flow goes at once.
  f.tunnel->drain_leg(2);
  CHECK(f.tunnel->holds_leg(2));  // bob's flow
}

TEST_CASE("udp tunnel: a leg whose channel ends loses its flows") {
  Fixture f;
  auto& leg = f.add_leg(1);
  auto alice = f.client();
  f.request_from(leg, alice, "q");
  leg.channel->close();  // the connector's side of the stream goes
  f.run_until([&] { return !f.tunnel->holds_leg(1); });
  CHECK(f.tunnel->stats().flows_closed[static_cast<std::size_t>(CloseReason::leg_lost)] == 1);
  f.send(alice, "again");
  f.run_until([&] { return f.tunnel->stats().dropped_no_leg == 1; });
}

TEST_CASE("udp tunnel: over a LegChannel, what fits goes as datagrams and what does not on the udp stream") {
  Fixture f;
  test::MemoryConnection near_conn(f.io, 1200), far_conn(f.io, 1200);
  near_conn.connect(far_conn);
  far_conn.connect(near_conn);
  auto& leg = f.add_quic_leg(1, near_conn, far_conn);
  auto alice = f.client();
  std::string large(3000, 'x');  // above the connection's 1200: the stream carries it
  f.send(alice, large);
  f.send(alice, "small");
  f.run_until([&] { return leg.frames.size() == 2; });
  auto first = std::get<core::udp::RequestFrame>(leg.pop());
  auto second = std::get<core::udp::RequestFrame>(leg.pop());
  CHECK(first.flow == second.flow);
  CHECK(first.payload.size() + second.payload.size() == 3005);
  auto counters = leg.channel->counters();
  CHECK(counters.received == 2);

  leg.respond(first.flow, std::string(2000, 'y'));
  CHECK(f.receive(alice).size() == 2000);
  leg.respond(first.flow, "ok");
  CHECK(f.receive(alice) == "ok");

  // The connection ends: the leg's channel ends with it, and so does the flow.
  near_conn.end(sdk::make_error_code(sdk::errc::peer_closed));
  f.run_until([&] { return !f.tunnel->holds_leg(1); });
  CHECK(f.tunnel->stats().flows_closed[static_cast<std::size_t>(CloseReason::leg_lost)] == 1);
  // Both ends' channels go before the connections they read from.
  f.tunnel->close();
  f.far.clear();
}

TEST_CASE("udp tunnel metrics render every family per tunnel") {
  core::UdpTunnelStats s;
  s.flows_active = 2;
  s.flows_opened = 5;
  s.flows_closed[static_cast<std::size_t>(CloseReason::idle)] = 3;
  s.dropped[static_cast<std::size_t>(DropReason::table_full)] = 4;
  s.dropped_no_leg = 6;
  s.datagrams_in = 7;
  s.bytes_out = 8;
  auto text = core::render_udp_tunnel_metrics({{"dns", s}});
  CHECK_THAT(text, Catch::Contains("# TYPE warren_udp_flows_active gauge\nwarren_udp_flows_active{tunnel=\"dns\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("warren_udp_flows_total{tunnel=\"dns\"} 5\n"));
  CHECK_THAT(text, Catch::Contains("warren_udp_flows_closed_total{tunnel=\"dns\",reason=\"idle\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("warren_udp_flows_closed_total{tunnel=\"dns\",reason=\"leg_lost\"} 0\n"));
  CHECK_THAT(text, Catch::Contains("warren_udp_datagrams_dropped_total{tunnel=\"dns\",reason=\"table_full\"} 4\n"));
  CHECK_THAT(text, Catch::Contains("warren_udp_datagrams_dropped_total{tunnel=\"dns\",reason=\"no_leg\"} 6\n"));
  CHECK_THAT(text, Catch::Contains("warren_udp_datagrams_total{tunnel=\"dns\",direction=\"in\"} 7\n"));
  CHECK_THAT(text, Catch::Contains("warren_udp_bytes_total{tunnel=\"dns\",direction=\"out\"} 8\n"));

  core::UdpTunnelStats gone = s;
  gone += s;
  CHECK(gone.flows_opened == 10);
  CHECK(gone.flows_active == 2);  // a gauge is not summed
}

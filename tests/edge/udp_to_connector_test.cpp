// What the edge counts toward the connector on a udp tunnel (`warren status`
// TO CONNECTOR, warren_udp_to_connector_*): only the datagrams a leg's
// channel took, never one dropped after it arrived (trial finding: the bytes
// of every arriving datagram were counted, dropped or not). So what arrived
// = what went toward the connector + what was dropped, by reason.

#include "udp_tunnel_fixture.hpp"

using namespace warren;
using namespace warren::test::udp_tunnel;

TEST_CASE("udp tunnel: only datagrams a leg took count toward the connector, the dropped ones by reason") {
  core::udp::FlowSettings one_flow;
  one_flow.max_flows = 1;
  Fixture f(one_flow);
  // A real stream channel that refuses frames larger than 100 bytes, as a
  // full send queue or a too small path refuses them: send() says false.
  auto [near_end, far_end] = test::stream_pair(f.io);
  core::datagram::StreamChannelLimits small;
  small.max_datagram = 100;
  f.tunnel->add_leg(1, core::datagram::make_stream_channel(std::move(near_end), small));
  auto& leg = *(f.far[1] = std::make_unique<FarLeg>());
  leg.channel = core::datagram::make_stream_channel(std::move(far_end));
  leg.receive();

  auto alice = f.client();
  auto bob = f.client();
  f.send(alice, "0123456789");           // taken: 10 B
  f.send(alice, std::string(200, 'x'));  // its frame is over 100 B: refused, send_failed
  f.send(alice, "abcde");                // taken: 5 B
  f.run_until([&] { return leg.frames.size() == 2 && f.tunnel->stats().datagrams_in == 3; });
  f.send(bob, "no room");  // a second flow, over max_flows: table_full
  f.run_until([&] { return f.tunnel->stats().datagrams_in == 4; });

  auto s = f.tunnel->stats();
  CHECK(s.bytes_in == 10 + 200 + 5 + 7);
  CHECK(s.datagrams_to_connector == 2);
  CHECK(s.bytes_to_connector == 15);
  CHECK(s.dropped_send_failed == 1);
  CHECK(s.dropped[static_cast<std::size_t>(DropReason::table_full)] == 1);
  std::uint64_t dropped = s.dropped_no_leg + s.dropped_send_failed;
  for (auto n : s.dropped) dropped += n;
  CHECK(s.datagrams_to_connector + dropped == s.datagrams_in);

  auto text = core::render_udp_tunnel_metrics({{"dns", s}});
  CHECK_THAT(text, Catch::Contains("warren_udp_to_connector_datagrams_total{tunnel=\"dns\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("warren_udp_to_connector_bytes_total{tunnel=\"dns\"} 15\n"));

  // A tunnel that went keeps its counts in the edge's totals.
  core::UdpTunnelStats gone;
  gone += s;
  CHECK(gone.datagrams_to_connector == 2);
  CHECK(gone.bytes_to_connector == 15);
}

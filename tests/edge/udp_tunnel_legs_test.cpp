// A udp tunnel's edge shell (core/edge/udp_tunnel.hpp), what the connector
// says and what a reload changes: a close frame's reason is counted as the
// frame names it; new flow limits apply to live flows; a leg whose udp
// stream ended while the leg lives gets a new one when the tunnel has flows
// or a new client comes, and carries flows again once it is up.

#include "udp_tunnel_fixture.hpp"

#include <boost/asio/write.hpp>

#include <array>
#include <stdexcept>

using namespace warren;
using namespace warren::test::udp_tunnel;

namespace {

std::size_t closed(const core::UdpTunnel& tunnel, CloseReason reason) {
  return tunnel.stats().flows_closed[static_cast<std::size_t>(reason)];
}

/// A leg whose far end the test holds as raw bytes, to break its framing.
std::unique_ptr<test::UnixStream> add_raw_leg(Fixture& f, core::UdpTunnel::LegId id) {
  auto [near_end, far_end] = test::stream_pair(f.io);
  f.tunnel->add_leg(id, core::datagram::make_stream_channel(std::move(near_end)));
  return std::move(far_end);
}

/// A length prefix above any datagram's: the edge's stream channel finds it
/// malformed and resets the stream, as it would a corrupted one.
void break_framing(Fixture& f, test::UnixStream& far) {
  static const std::array<std::uint8_t, 2> too_long{0xff, 0xff};
  bool written = false;
  boost::asio::async_write(far, boost::asio::buffer(too_long), [&](sdk::error_code, std::size_t) { written = true; });
  f.run_until([&] { return written; });
}

}  // namespace

TEST_CASE("udp tunnel: the connector's close frame is counted under the reason it names, peer_closed if unknown") {
  Fixture f;
  auto& leg = f.add_leg(1);
  auto alice = f.client(), bob = f.client(), carol = f.client();
  auto a = f.request_from(leg, alice, "q").flow;
  auto b = f.request_from(leg, bob, "q").flow;
  auto c = f.request_from(leg, carol, "q").flow;
  leg.close_flow(a, CloseReason::idle);
  leg.close_flow(b, CloseReason::shutdown);
  std::vector<std::byte> newer;  // a code a newer connector might send
  REQUIRE(core::udp::encode_close(c, 200, newer));
  REQUIRE(leg.channel->send(newer));
  f.run_until([&] { return f.tunnel->flows() == 0; });
  CHECK(closed(*f.tunnel, CloseReason::idle) == 1);
  CHECK(closed(*f.tunnel, CloseReason::shutdown) == 1);
  CHECK(closed(*f.tunnel, CloseReason::peer_closed) == 1);
  // The connector knows: nothing goes back.
  f.io.restart();
  f.io.poll();
  CHECK(leg.frames.empty());
}

TEST_CASE("udp tunnel: new flow limits apply to live flows, telling the connector of those they end") {
  core::udp::FlowSettings settings;
  settings.idle_timeout = 30s;
  Fixture f(settings);
  auto& leg = f.add_leg(1);
  auto alice = f.client();
  auto flow = f.request_from(leg, alice, "q").flow;

  settings.idle_timeout = 100ms;
  settings.max_requests = 1;
  f.tunnel->update_settings(settings);
  CHECK(f.tunnel->settings().idle_timeout == 100ms);
  // Quiet since: the flow ends on the new idle timeout (its one request
  // carried, the reason is `requests`) and the connector hears of it.
  f.run_until([&] { return !leg.frames.empty(); });
  auto close = std::get<core::udp::CloseFrame>(leg.pop());
  CHECK(close.flow == flow);
  CHECK(core::udp::close_reason_from_wire(close.reason) == CloseReason::requests);
  CHECK(f.tunnel->flows() == 0);

  core::udp::FlowSettings bad;
  bad.max_flows = 0;
  CHECK_THROWS_AS(f.tunnel->update_settings(bad), std::invalid_argument);
  CHECK(f.tunnel->settings().max_requests == 1);
}

TEST_CASE("udp tunnel: a leg whose udp stream was reset gets a new one while the tunnel has flows") {
  Fixture f;
  std::vector<core::UdpTunnel::LegId> asked;
  f.tunnel->set_stream_opener([&](core::UdpTunnel::LegId leg) { asked.push_back(leg); });
  auto far_one = add_raw_leg(f, 1);
  auto& two = f.add_leg(2);
  auto alice = f.client(), bob = f.client();
  f.send(alice, "to leg 1");  // the first new flow goes to the first leg (ties in turn)
  f.run_until([&] { return f.tunnel->flows_on(1) == 1; });
  f.request_from(two, bob, "to leg 2");

  break_framing(f, *far_one);
  f.run_until([&] { return !f.tunnel->holds_leg(1); });
  CHECK(closed(*f.tunnel, CloseReason::leg_lost) == 1);  // alice's flow went with the stream
  // Bob's flow lives on leg 2: the tunnel has flows, so leg 1 is asked for a stream at once.
  CHECK(asked == std::vector<core::UdpTunnel::LegId>{1});

  // The edge's leg opened it: the leg carries flows again, new ones first (it has fewest).
  auto& one = f.add_leg(1);
  CHECK(f.tunnel->holds_leg(1));
  auto carol = f.client();
  auto request = f.request_from(one, carol, "to leg 1 again");
  CHECK(request.client == carol.local_endpoint());
  CHECK(f.tunnel->flows_on(1) == 1);
  CHECK(asked.size() == 1);
}

TEST_CASE("udp tunnel: an idle tunnel asks a leg for a new udp stream only when a new client comes") {
  Fixture f;
  std::vector<core::UdpTunnel::LegId> asked;
  f.tunnel->set_stream_opener([&](core::UdpTunnel::LegId leg) { asked.push_back(leg); });
  auto far_one = add_raw_leg(f, 1);
  break_framing(f, *far_one);
  f.run_until([&] { return !f.tunnel->holds_leg(1); });
  CHECK(asked.empty());

  auto alice = f.client();
  f.send(alice, "hello");
  f.run_until([&] { return f.tunnel->stats().dropped_no_leg == 1; });  // no leg carries it yet
  CHECK(asked == std::vector<core::UdpTunnel::LegId>{1});
  f.send(alice, "again");  // within a second: not asked twice
  f.run_until([&] { return f.tunnel->stats().dropped_no_leg == 2; });
  CHECK(asked.size() == 1);
}

TEST_CASE("udp tunnel: a udp stream the connector ended cleanly (its leg drains) is not asked for again") {
  Fixture f;
  std::vector<core::UdpTunnel::LegId> asked;
  f.tunnel->set_stream_opener([&](core::UdpTunnel::LegId leg) { asked.push_back(leg); });
  auto& one = f.add_leg(1);
  auto& two = f.add_leg(2);
  auto alice = f.client();
  f.request_from(one, alice, "q");
  two.channel->close();  // eof at the edge
  f.run_until([&] { return !f.tunnel->holds_leg(2); });
  auto bob = f.client();
  f.request_from(one, bob, "q");
  CHECK(asked.empty());
}

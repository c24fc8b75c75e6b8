// UDP tunnels under a killed connector, and the client's address at a real
// PROXY-aware UDP server through the whole tunnel: `warren edge` (kind =
// "udp"), `warren connect` (udp backend), dnsdist from Debian (skipped,
// exit 77, when it is not installed).

#include "dns_message.hpp"
#include "dnsdist_server.hpp"
#include "netns_pair.hpp"
#include "udp_tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <unistd.h>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::uint8_t> bytes(const std::string& text) { return {text.begin(), text.end()}; }

}  // namespace

TEST_CASE("a udp tunnel carries a client's datagrams again after its connector is killed and restarted", "[udp]") {
  TempDir dir;
  UdpEchoServer echo;
  UdpEdge edge(dir.path);
  UdpConnector connector(dir.path, {.pin = edge.edge().pin(),
                                    .edge_port = edge.edge().quic_port(),
                                    .backend = "address = \"127.0.0.1:" + std::to_string(echo.port()) + "\"",
                                    .ha_connections = 2});
  REQUIRE(connector.wait_registered(15s));
  UdpClient client(edge.public_port());
  REQUIRE(client.exchange(bytes("before"), 10s));
  REQUIRE(eventually([&] { return edge.edge().metric("warren_tunnel_legs{tunnel=\"web\"}") == 2.0; }, 10s));

  REQUIRE(connector.process().stop(SIGKILL, 5s));
  auto killed = std::chrono::steady_clock::now();
  connector.restart();
  REQUIRE(connector.wait_registered(20s));
  // The same client socket, the same public flow key: its flow sat on a dead
  // leg until the restarted connector's legs replaced the dead ones (or, at
  // the latest, the edge's heartbeat deadline, 8 s, ended them); then it is
  // carried again on a new leg.
  auto again = client.exchange(bytes("after"), 20s);
  INFO("edge:\n" << edge.edge().process().stderr_text() << "\nconnector:\n" << connector.process().stderr_text());
  REQUIRE(again);
  CHECK(*again == bytes("after"));
  auto carried_after = std::chrono::steady_clock::now() - killed;
  std::printf("udp flow carried again %.0f ms after the connector was killed\n",
              std::chrono::duration<double, std::milli>(carried_after).count());
  CHECK(carried_after < 15s);
  // The flow of the dead leg ended with it, not on idle.
  CHECK(eventually([&] { return edge.metric("warren_udp_flows_closed_total", {{"reason", "leg_lost"}}) >= 1.0; }, 10s));
  CHECK(edge.metric("warren_udp_flows_closed_total", {{"reason", "idle"}}).value_or(0) == 0.0);
  CHECK(edge.metric("warren_udp_flows_active") == 1.0);
}

TEST_CASE("dnsdist behind a udp tunnel sees the public client's address and port from the PROXY v2 header",
          "[udp][proxy]") {
  if (access(dnsdist_path.c_str(), X_OK) != 0)
    skip_test("no " + dnsdist_path + " on this machine (Debian package dnsdist)");
  TempDir dir;
  DnsdistServer dnsdist;
  UdpEdge edge(dir.path);
  UdpConnector connector(dir.path, {.pin = edge.edge().pin(),
                                    .edge_port = edge.edge().quic_port(),
                                    .backend = "address = \"127.0.0.1:" + std::to_string(dnsdist.port()) +
                                               "\"\nproxy_protocol = \"v2\""});
  REQUIRE(connector.wait_registered(15s));
  const std::string listener = "127.0.0.1:" + std::to_string(edge.public_port());
  // Sources other than the connector's own 127.0.0.1, so only the header can
  // have told dnsdist (which drops a datagram from loopback without one).
  for (int i = 0; i < 3; ++i) {
    std::string source = "127.0.0." + std::to_string(23 + i);
    UdpClient client(edge.public_port(), source);
    auto id = static_cast<std::uint16_t>(0x2000 + i);
    auto answer = client.exchange(dns_a_query(id, "example.test"), 10s);
    INFO("dnsdist:\n" << dnsdist.log() << "\nconnector:\n" << connector.process().stderr_text());
    REQUIRE(answer);
    CHECK(dns_first_a(*answer, id) == source);
    CHECK(dnsdist.wait_query_from(client.address(), 5s) == std::optional<std::string>(listener));
  }
  CHECK(dnsdist.running());
}

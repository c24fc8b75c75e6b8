// How a udp connector's run ends, with real processes (trial findings of
// issue 13): stopped by SIGTERM it speaks of the flows the stop ended, not of
// streams; and a connector whose backend cannot carry the edge's tunnel kind
// (a tcp backend for kind = "udp", a udp backend for kind = "tcp") exits 3,
// as any refusal a restart does not mend, naming both.

#include "loopback_services.hpp"
#include "process.hpp"
#include "udp_tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <memory>
#include <vector>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::uint8_t> bytes(const std::string& text) { return {text.begin(), text.end()}; }

}  // namespace

TEST_CASE("a udp connector stopped by SIGTERM says how many flows the stop ended, not that streams finished", "[udp]") {
  TempDir dir;
  UdpEchoServer echo;
  UdpEdge edge(dir.path);
  UdpConnector connector(dir.path, {.pin = edge.edge().pin(),
                                    .edge_port = edge.edge().quic_port(),
                                    .backend = "address = \"127.0.0.1:" + std::to_string(echo.port()) + "\""});
  REQUIRE(connector.wait_registered(15s));
  constexpr int flows = 3;
  std::vector<std::unique_ptr<UdpClient>> clients;
  for (int i = 0; i < flows; ++i) {
    clients.push_back(std::make_unique<UdpClient>(edge.public_port()));
    REQUIRE(clients.back()->exchange(bytes("flow " + std::to_string(i)), 10s));
  }
  REQUIRE(connector.metric("warren_connector_udp_flows_active") == double(flows));

  auto code = connector.process().stop(SIGTERM, 15s);
  auto log = connector.process().stderr_text();
  INFO(log);
  REQUIRE(code);
  CHECK(*code == 0);
  CHECK_THAT(log, Catch::Contains("3 udp flow(s) ended by the stop (reason shutdown); stopped"));
  CHECK_THAT(log, !Catch::Contains("every stream finished"));
}

TEST_CASE("a connector whose backend cannot carry the edge's tunnel kind exits 3 at registration, naming both",
          "[udp]") {
  TempDir dir;
  std::string expected;
  // Declared in this order so each connector stops before its edge.
  std::unique_ptr<UdpEdge> udp_edge;
  std::unique_ptr<Edge> tcp_edge;
  EchoServer tcp_service;
  UdpEchoServer udp_service;
  std::unique_ptr<Connector> tcp_connector;
  std::unique_ptr<UdpConnector> udp_connector;
  SECTION("a tcp backend for a kind = \"udp\" tunnel") {
    udp_edge = std::make_unique<UdpEdge>(dir.path);
    tcp_connector = std::make_unique<Connector>(dir.path, ConnectorOptions{.pin = udp_edge->edge().pin(),
                                                                           .edge_port = udp_edge->edge().quic_port(),
                                                                           .backend_port = tcp_service.port()});
    expected = "the edge serves this tunnel as kind = \"udp\", but [backend] plugin = \"tcp\" carries streams";
  }
  SECTION("a udp backend for a kind = \"tcp\" tunnel") {
    tcp_edge = std::make_unique<Edge>(dir.path);
    udp_connector = std::make_unique<UdpConnector>(
        dir.path, UdpConnectorOptions{.pin = tcp_edge->pin(),
                                      .edge_port = tcp_edge->quic_port(),
                                      .backend = "address = \"127.0.0.1:" + std::to_string(udp_service.port()) + "\""});
    expected = "the edge serves this tunnel as kind = \"tcp\", but [backend] plugin = \"udp\" carries datagrams";
  }
  auto& process = tcp_connector ? tcp_connector->process() : udp_connector->process();
  auto code = process.wait_exit(15s);
  INFO(process.stderr_text());
  REQUIRE(code);
  CHECK(*code == 3);
  CHECK_THAT(process.stderr_text(), Catch::Contains(expected));
}

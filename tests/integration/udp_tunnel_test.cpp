// UDP tunnels end to end (issue 13): real `warren edge` with a kind = "udp"
// tunnel and `warren connect` with the udp backend, real clients (dig, UDP
// sockets) and real services (dnsmasq, a UDP echo). DNS answers through the
// tunnel with flows ended by the response count; 10,000 datagrams echo byte
// for byte with < 1 % loss; flows end on idle on both sides; the HTTP/2
// transport carries datagrams on its stream. Faults and PROXY v2 through the
// tunnel: udp_tunnel_faults_test.cpp.

#include "dns_message.hpp"
#include "dnsmasq_server.hpp"
#include "process.hpp"
#include "udp_tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <cstdio>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

/// An echo service behind a udp tunnel, the connector registered.
struct EchoUdpTunnel {
  explicit EchoUdpTunnel(UdpEdgeOptions edge_options = {}, std::string transport = "quic")
      : edge(dir.path, std::move(edge_options)),
        connector(dir.path, {.pin = edge.edge().pin(),
                             .edge_port = edge.edge().quic_port(),
                             .backend = "address = \"127.0.0.1:" + std::to_string(echo.port()) + "\"",
                             .transport = std::move(transport)}) {
    if (!connector.wait_registered(15s))
      throw std::runtime_error("the connector did not register:\n" + connector.process().stderr_text());
  }
  std::string logs() { return "edge:\n" + edge.edge().process().stderr_text() + "\nconnector:\n" +
                              connector.process().stderr_text(); }

  TempDir dir;
  UdpEchoServer echo;
  UdpEdge edge;
  UdpConnector connector;
};

std::vector<std::uint8_t> bytes(const std::string& text) { return {text.begin(), text.end()}; }

/// Prints the run's figures and checks it: all sent, nothing corrupted, under 1 % lost.
void check_run(const std::string& what, const EchoRun& run, std::size_t expected) {
  std::printf("%s: %zu datagrams sent, %zu echoed byte-exact, loss %.3f %%, %.0f datagrams/s, "
              "%zu corrupted, %zu duplicated\n",
              what.c_str(), run.sent, run.echoed, run.loss_percent(), run.per_second(), run.corrupted, run.duplicated);
  std::fflush(stdout);
  CHECK(run.sent == expected);
  CHECK(run.corrupted == 0);
  CHECK(run.loss_percent() < 1.0);
}

}  // namespace

TEST_CASE("dnsmasq answers dig through a udp tunnel and each query's flow ends on its response", "[udp]") {
  TempDir dir;
  DnsmasqServer dns({.hosts = {{"example.test", "192.0.2.7"}}});
  UdpEdge edge(dir.path, {.tunnel_keys = "flow_requests = 1\nflow_responses = 1\n"});
  UdpConnector connector(dir.path, {.pin = edge.edge().pin(),
                                    .edge_port = edge.edge().quic_port(),
                                    .backend = "address = \"" + dns.address() + "\""});
  REQUIRE(connector.wait_registered(15s));
  const std::string opened = "tunnel 'web' (udp) public at 127.0.0.1:" + std::to_string(edge.public_port());
  CHECK(edge.edge().process().stderr_text().find(opened) != std::string::npos);
  // The first query may meet a tunnel whose leg has not opened its udp stream yet.
  UdpClient warm(edge.public_port());
  auto first = warm.exchange(dns_a_query(0x1234, "example.test"), 10s);
  REQUIRE(first);
  CHECK(dns_first_a(*first, 0x1234) == "192.0.2.7");

  const int queries = 20;
  for (int i = 0; i < queries; ++i) {
    auto r = run_process({"/usr/bin/dig", "@127.0.0.1", "-p", std::to_string(edge.public_port()), "example.test",
                          "+short", "+tries=1", "+time=3"});
    INFO("dig: " << r.out << "\nedge:\n" << edge.edge().process().stderr_text());
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == "192.0.2.7\n");
  }
  // Each dig came from a port of its own: a flow each, ended by its one response.
  INFO("edge metrics:\n" << edge.edge().metrics());
  CHECK(eventually([&] { return edge.metric("warren_udp_flows_closed_total", {{"reason", "responses"}}) >= queries; },
                   5s));
  CHECK(edge.metric("warren_udp_flows_total") >= queries + 1);
  CHECK(eventually([&] { return edge.metric("warren_udp_flows_active") == 0.0; }, 5s));
  CHECK(edge.metric("warren_udp_datagrams_total", {{"direction", "in"}}) >= queries + 1);
  CHECK(edge.metric("warren_udp_datagrams_total", {{"direction", "out"}}) >= queries + 1);
  CHECK(dns.running());
}

TEST_CASE("ten thousand datagrams of random sizes echo byte for byte through a udp tunnel with under 1 % loss", "[udp]") {
  EchoUdpTunnel t;
  SECTION("from one client socket") {
    UdpClient client(t.edge.public_port());
    // One datagram first, answered: the flow's backend socket is open before
    // the burst (while it opens, the connector keeps one datagram and drops the rest).
    REQUIRE(client.exchange(bytes("warm"), 10s));
    auto run = echo_through({&client}, 10000, 1);
    INFO(t.logs());
    check_run("one socket", run, 10000);
    CHECK(t.edge.metric("warren_udp_flows_total") == 1.0);  // one socket, one flow
  }
  SECTION("from four client ports at once") {
    std::vector<std::unique_ptr<UdpClient>> clients;
    std::vector<UdpClient*> raw;
    for (int i = 0; i < 4; ++i) {
      clients.push_back(std::make_unique<UdpClient>(t.edge.public_port(), "127.0.0." + std::to_string(30 + i)));
      REQUIRE(clients.back()->exchange(bytes("warm"), 10s));
      raw.push_back(clients.back().get());
    }
    auto run = echo_through(raw, 2500, 2);
    INFO(t.logs());
    check_run("four sockets", run, 10000);
    CHECK(t.edge.metric("warren_udp_flows_total") == 4.0);
  }
}

TEST_CASE("a udp flow ends after flow_idle_timeout on the edge and on the connector", "[udp]") {
  EchoUdpTunnel t({.tunnel_keys = "flow_idle_timeout = \"1s\"\n"});
  UdpClient client(t.edge.public_port());
  REQUIRE(client.exchange(bytes("hello"), 10s));
  // Traffic every 300 ms for 2 s keeps the flow: idle counts from the last datagram.
  for (int i = 0; i < 7; ++i) {
    REQUIRE(client.send(bytes("still here")));
    CHECK(client.receive(2s));
    std::this_thread::sleep_for(300ms);
  }
  INFO(t.logs());
  CHECK(t.edge.metric("warren_udp_flows_active") == 1.0);
  CHECK(t.edge.metric("warren_udp_flows_total") == 1.0);
  CHECK(t.connector.metric("warren_connector_udp_flows_active") == 1.0);
  // Silence: the edge ends it a second later, and tells the connector.
  CHECK(eventually([&] { return t.edge.metric("warren_udp_flows_closed_total", {{"reason", "idle"}}) == 1.0; }, 5s));
  CHECK(eventually([&] { return t.edge.metric("warren_udp_flows_active") == 0.0; }, 5s));
  CHECK(eventually([&] { return t.connector.metric("warren_connector_udp_flows_active") == 0.0; }, 10s));
  auto closed = t.connector.metric("warren_connector_udp_flows_closed_total", {{"reason", "peer_closed"}}).value_or(0) +
                t.connector.metric("warren_connector_udp_flows_closed_total", {{"reason", "idle"}}).value_or(0);
  CHECK(closed == 1.0);
  CHECK(t.connector.metric("warren_connector_udp_flows_total") == 1.0);
  // The client's next datagram opens a new flow.
  CHECK(client.exchange(bytes("back again"), 10s));
  CHECK(t.edge.metric("warren_udp_flows_total") == 2.0);
}

TEST_CASE("the http2 transport carries a udp tunnel's datagrams on its stream", "[udp][http2]") {
  EchoUdpTunnel t({.http2 = true}, "http2");
  UdpClient client(t.edge.public_port());
  REQUIRE(client.exchange(bytes("warm"), 10s));
  auto run = echo_through({&client}, 2000, 3);
  INFO(t.logs());
  check_run("http2", run, 2000);
  // Both legs hold http2, none quic (the connector's /metrics names each leg's transport).
  CHECK(t.connector.metric("warren_connector_leg_address", {{"leg", "0"}, {"transport", "http2"}}) == 1.0);
  CHECK(t.connector.metric("warren_connector_leg_address", {{"leg", "1"}, {"transport", "http2"}}) == 1.0);
  CHECK_FALSE(t.connector.metric("warren_connector_leg_address", {{"transport", "quic"}}));
}

TEST_CASE("a udp tunnel at max_flows drops a new client's datagrams and the edge's log says what to raise", "[udp]") {
  EchoUdpTunnel t({.tunnel_keys = "max_flows = 1\n"});
  UdpClient first(t.edge.public_port());
  REQUIRE(first.exchange(bytes("mine"), 10s));
  UdpClient second(t.edge.public_port());
  for (int i = 0; i < 3; ++i) REQUIRE(second.send(bytes("no room")));
  CHECK_FALSE(second.receive(500ms));
  // The tunnel reads its counts every 5 s: the warning comes within that.
  const std::string warning = "(table_full): the tunnel holds max_flows = 1 flows, so new clients' datagrams are "
                              "dropped; raise max_flows in its [[tunnels]] table";
  CHECK(eventually([&] { return t.edge.edge().process().stderr_text().find(warning) != std::string::npos; }, 8s));
  INFO(t.logs());
  const auto err = t.edge.edge().process().stderr_text();
  const auto line = err.substr(err.rfind('\n', err.find(warning)) + 1);
  CHECK_THAT(line, Catch::StartsWith("20") && Catch::Contains(" warning tunnel 'web': "));
  CHECK_THAT(line.substr(0, line.find(warning)), Catch::Contains(" dropped in the last "));
  CHECK(t.edge.metric("warren_udp_datagrams_dropped_total", {{"reason", "table_full"}}) == 3.0);
}

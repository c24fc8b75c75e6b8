// UDP tunnels with real processes, what issue 13's second round mended: a
// SIGHUP that changes a udp tunnel's flow keys applies them to its live
// flows (a shorter flow_idle_timeout ends a quiet flow; flow_responses ends
// the next flow on its answer), while a longer flow_idle_timeout and a kind
// are warnings left for a restart; the edge counts a flow the connector
// ended under the connector's reason (backend_refused when its backend's
// socket is refused); and an http2 connector stopped with SIGTERM gets its
// close frames to the edge before its udp stream ends (shutdown, not leg_lost).

#include "loopback_services.hpp"
#include "process.hpp"
#include "udp_tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <memory>
#include <vector>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

std::string warren_binary() {
  const char* other = std::getenv("WARREN_TEST_BINARY");
  return other && *other ? other : WARREN_BINARY;
}

std::vector<std::uint8_t> bytes(const std::string& text) { return {text.begin(), text.end()}; }

/// An edge with one udp tunnel "web", whose [[tunnels]] keys the test
/// rewrites and reloads with SIGHUP; an admin address for /metrics.
struct ReloadUdpEdge {
  TempDir dir;
  std::filesystem::path file = dir.path / "edge.toml";
  std::uint16_t public_port = free_udp_port();
  std::unique_ptr<BackgroundProcess> process;
  std::uint16_t quic_port = 0, admin_port = 0;
  std::string pin;

  explicit ReloadUdpEdge(const std::string& keys) {
    write(keys);
    process = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{warren_binary(), "edge", "--config", file.string()}, dir.path / "edge.err");
    auto listen = process->wait_for_line(std::regex(R"(^listen quic 127\.0\.0\.1:(\d+)$)"), 10s);
    auto admin = process->wait_for_line(std::regex(R"(^admin http://127\.0\.0\.1:(\d+)/metrics$)"), 10s);
    auto printed = process->wait_for_line(std::regex(R"(^pin (sha256:[0-9a-f]{64})$)"), 10s);
    if (!listen || !admin || !printed) FAIL("the edge did not start:\n" << process->stderr_text());
    quic_port = static_cast<std::uint16_t>(std::stoi((*listen)[1]));
    admin_port = static_cast<std::uint16_t>(std::stoi((*admin)[1]));
    pin = (*printed)[1];
  }
  /// The whole file, written as an operator's `mv` would (atomically).
  void write(const std::string& keys) {
    auto temp = file;
    temp += ".new";
    std::ofstream(temp) << "[edge]\nid = \"edge-udp-reload\"\nstate_dir = \"state\"\npublic_host = \"127.0.0.1\"\n"
                        << "admin = \"127.0.0.1:0\"\nheartbeat_interval = \"200ms\"\n\n"
                        << "[[listen]]\nplugin = \"quic\"\naddress = \"127.0.0.1:0\"\n\n"
                        << "[[tunnels]]\nid = \"web\"\ntoken = \"s3cret\"\npublic_port = " << public_port << "\n"
                        << keys;
    std::filesystem::rename(temp, file);
  }
  /// Sends SIGHUP; what the edge logged for it once it logged the summary.
  std::string reload() {
    auto before = process->stderr_text().size();
    ::kill(process->pid(), SIGHUP);
    std::string text;
    if (!eventually(
            [&] {
              text = process->stderr_text().substr(before);
              return text.find("reload of ") != std::string::npos || text.find("reload refused") != std::string::npos;
            },
            10s))
      FAIL("no reload logged:\n" << text);
    return text;
  }
  double metric(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    auto all = labels;
    all.emplace("tunnel", "web");
    return labelled_metric(fetch_metrics(admin_port), name, all).value_or(-1);
  }
  double closed(const std::string& reason) const {
    return metric("warren_udp_flows_closed_total", {{"reason", reason}});
  }
};

bool logged(const std::string& log, const std::string& pattern) { return std::regex_search(log, std::regex(pattern)); }

}  // namespace

TEST_CASE("a SIGHUP applies a udp tunnel's flow keys to its live flows, while a longer idle timeout and a kind wait",
          "[udp][reload]") {
  UdpEchoServer echo;
  ReloadUdpEdge edge("kind = \"udp\"\nflow_idle_timeout = \"30s\"\n");
  UdpConnector connector(edge.dir.path, {.pin = edge.pin,
                                         .edge_port = edge.quic_port,
                                         .backend = "address = \"127.0.0.1:" + std::to_string(echo.port()) + "\"",
                                         .ha_connections = 1});
  REQUIRE(connector.wait_registered(15s));
  UdpClient client(edge.public_port);
  REQUIRE(client.exchange(bytes("before"), 10s));
  CHECK(edge.metric("warren_udp_flows_active") == 1);

  // Shorter idle timeout and one response per flow: applied, to the flow that lives too.
  edge.write("kind = \"udp\"\nflow_idle_timeout = \"1s\"\nflow_responses = 1\n");
  auto log = edge.reload();
  INFO(log);
  CHECK(logged(log, R"(info +reload: tunnel 'web': flow_idle_timeout 30s -> 1s: applied)"));
  CHECK(logged(log, R"(info +reload: tunnel 'web': flow_responses 0 -> 1: applied)"));
  CHECK_THAT(log, Catch::Contains("reload of " + edge.file.string() + " done: 2 change(s) applied, 0 left for a restart"));
  // Quiet for over a second already, or soon: the live flow ends idle.
  CHECK(eventually([&] { return edge.closed("idle") == 1; }, 5s));
  CHECK(edge.metric("warren_udp_flows_active") == 0);
  // The next flow ends on its one answer.
  REQUIRE(client.exchange(bytes("after"), 10s));
  CHECK(eventually([&] { return edge.closed("responses") == 1; }, 5s));

  // A longer idle timeout: a warning, left for a restart; the 1 s stays.
  edge.write("kind = \"udp\"\nflow_idle_timeout = \"1m\"\nflow_responses = 1\n");
  log = edge.reload();
  CHECK(logged(log, R"(warning +reload: tunnel 'web': flow_idle_timeout 1s -> 1m: needs a restart)"));
  CHECK_THAT(log, Catch::Contains("done: 0 change(s) applied, 1 left for a restart"));

  // Another kind: a warning naming both, left for a restart; the tunnel stays udp.
  edge.write("kind = \"tcp\"\n");
  log = edge.reload();
  CHECK(logged(log, R"(warning +reload: tunnel 'web': kind udp -> tcp: needs a restart.*it stays udp)"));
  CHECK_THAT(log, Catch::Contains("done: 0 change(s) applied, 1 left for a restart"));
  CHECK(client.exchange(bytes("still udp"), 10s));
  CHECK(eventually([&] { return edge.closed("responses") == 2; }, 5s));  // and still 1 response per flow
  CHECK(connector.process().running());
}

TEST_CASE("the edge counts a flow its connector ended under the connector's reason: backend_refused",
          "[udp]") {
  TempDir dir;
  UdpEdge edge(dir.path);
  // Nothing listens there: the backend's first datagram draws ICMP port
  // unreachable, its socket is refused, and the connector ends the flow.
  auto closed_port = free_udp_port();
  UdpConnector connector(dir.path, {.pin = edge.edge().pin(),
                                    .edge_port = edge.edge().quic_port(),
                                    .backend = "address = \"127.0.0.1:" + std::to_string(closed_port) + "\"",
                                    .ha_connections = 1});
  REQUIRE(connector.wait_registered(15s));
  UdpClient client(edge.public_port());
  auto refused = [&] { return edge.metric("warren_udp_flows_closed_total", {{"reason", "backend_refused"}}); };
  // The tunnel may still be setting up: send until a flow was refused.
  CHECK(eventually(
      [&] {
        client.send(bytes("anyone?"));
        return refused().value_or(0) >= 1;
      },
      15s));
  INFO(edge.edge().process().stderr_text() << connector.process().stderr_text());
  CHECK(connector.metric("warren_connector_udp_flows_closed_total", {{"reason", "backend_refused"}}).value_or(0) >= 1);
  CHECK(edge.metric("warren_udp_flows_closed_total", {{"reason", "peer_closed"}}) == 0.0);
}

TEST_CASE("an http2 connector stopped with SIGTERM gets each flow's close frame to the edge before its udp stream ends",
          "[udp][http2]") {
  TempDir dir;
  UdpEchoServer echo;
  UdpEdge edge(dir.path, {.http2 = true});
  UdpConnector connector(dir.path, {.pin = edge.edge().pin(),
                                    .edge_port = edge.edge().quic_port(),
                                    .backend = "address = \"127.0.0.1:" + std::to_string(echo.port()) + "\"",
                                    .transport = "http2",
                                    .ha_connections = 1});
  REQUIRE(connector.wait_registered(15s));
  constexpr int flows = 40;
  std::vector<std::unique_ptr<UdpClient>> clients;
  for (int i = 0; i < flows; ++i) {
    clients.push_back(std::make_unique<UdpClient>(edge.public_port()));
    REQUIRE(clients.back()->exchange(bytes("flow " + std::to_string(i)), 10s));
  }
  REQUIRE(edge.metric("warren_udp_flows_active") == double(flows));

  auto code = connector.process().stop(SIGTERM, 15s);
  REQUIRE(code);
  CHECK(*code == 0);
  INFO(edge.edge().process().stderr_text() << connector.process().stderr_text());
  CHECK(eventually([&] { return edge.metric("warren_udp_flows_active") == 0.0; }, 10s));
  CHECK(edge.metric("warren_udp_flows_closed_total", {{"reason", "shutdown"}}) == double(flows));
  CHECK(edge.metric("warren_udp_flows_closed_total", {{"reason", "leg_lost"}}) == 0.0);
  CHECK_THAT(connector.process().stderr_text(), Catch::Contains("40 udp flow(s) ended by the stop"));
}

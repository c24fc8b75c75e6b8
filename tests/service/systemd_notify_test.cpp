// systemd readiness with the real binary and a fake NOTIFY_SOCKET (Type=notify):
// a connector says READY=1 only once a leg is registered, STATUS= as legs come,
// STOPPING=1 on SIGTERM, and WATCHDOG=1 pings when WATCHDOG_USEC is set; an
// edge says READY=1 once it listens. Built without libsystemd, every case
// exits 77 (SKIPPED): there is nothing to notify with.

#include "notify_socket.hpp"

#include "loopback_services.hpp"
#include "netns_pair.hpp"
#include "process.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

void skip_without_libsystemd() {
  auto version = run_process({WARREN_BINARY, "version"});
  if (version.out.find("systemd notify built in") == std::string::npos)
    skip_test("warren was built without libsystemd (`warren version`: " + version.out + ")");
}

bool is_ready(const std::string& message) { return message.find("READY=1") != std::string::npos; }

}  // namespace

TEST_CASE("systemd: the connector says READY=1 only after its first leg registers, then STOPPING=1") {
  skip_without_libsystemd();
  TempDir dir;
  EchoServer echo;
  NotifySocket notify(dir.path / "notify.sock");
  const auto port = free_udp_port();
  std::unique_ptr<Connector> connector;
  {
    ScopedEnv env("NOTIFY_SOCKET", notify.path().string());
    connector = std::make_unique<Connector>(
        dir.path, ConnectorOptions{.edge_port = port, .backend_port = echo.port(), .ha_connections = 2});
  }
  // No edge yet: the connector says how it is doing, and that it is not ready.
  REQUIRE(notify.wait_for("STATUS=0/2 legs registered; connecting", 10s));
  auto err_has_failure = [&] { return connector->process().stderr_text().find("cannot reach the edge") != std::string::npos; };
  auto until = std::chrono::steady_clock::now() + 20s;
  while (!err_has_failure() && std::chrono::steady_clock::now() < until) notify.wait_for(is_ready, 100ms);
  INFO(connector->process().stderr_text());
  REQUIRE(err_has_failure());  // a dial has failed: the connector has run a while with no edge
  notify.drain();
  CHECK(notify.count("READY=1") == 0);
  for (const auto& m : notify.messages()) CHECK(m.starts_with("STATUS="));

  Edge edge(dir.path, {.listen_port = port});
  auto ready = notify.wait_for(is_ready, 20s);
  REQUIRE(ready);
  CHECK_THAT(*ready, Catch::Matches("READY=1\nSTATUS=[12]/2 legs registered to 127\\.0\\.0\\.1:" + std::to_string(port)));
  // READY=1 follows the "tunnel ID ADDRESS" line, which is already out.
  CHECK(connector->process().wait_for_line(std::regex("^tunnel web \\S+$"), 1s));
  CHECK(notify.wait_for("STATUS=2/2 legs registered to 127.0.0.1:" + std::to_string(port), 10s));

  REQUIRE(connector->process().stop(SIGTERM, 15s) == 0);
  notify.drain();
  CHECK(notify.count("READY=1") == 1);
  CHECK(notify.count("STOPPING=1") == 1);
  CHECK(notify.count("WATCHDOG=1") == 0);  // no WATCHDOG_USEC: no pings
  CHECK(notify.messages().back().starts_with("STOPPING=1"));
}

TEST_CASE("systemd: the connector pings the watchdog at half of WATCHDOG_USEC") {
  skip_without_libsystemd();
  TempDir dir;
  EchoServer echo;
  NotifySocket notify(dir.path / "notify.sock");
  std::unique_ptr<Connector> connector;
  {
    ScopedEnv env("NOTIFY_SOCKET", notify.path().string());
    ScopedEnv watchdog("WATCHDOG_USEC", "400000");  // pings every 200 ms
    connector = std::make_unique<Connector>(
        dir.path, ConnectorOptions{.edge_port = free_udp_port(), .backend_port = echo.port(), .ha_connections = 1});
  }
  auto first = std::chrono::steady_clock::now();
  REQUIRE(notify.wait_for("WATCHDOG=1", 10s));
  for (int i = 0; i < 5; ++i) REQUIRE(notify.wait_for("WATCHDOG=1", 2s));
  auto elapsed = std::chrono::steady_clock::now() - first;
  // Six pings at 200 ms: at least 1 s apart from the first to the last.
  CHECK(elapsed >= 900ms);
  CHECK(connector->process().stop(SIGTERM, 15s).has_value());
}

TEST_CASE("systemd: the edge says READY=1 once it listens, its tunnels in STATUS=, then STOPPING=1") {
  skip_without_libsystemd();
  TempDir dir;
  EchoServer echo;
  NotifySocket notify(dir.path / "notify.sock");
  std::unique_ptr<Edge> edge;
  {
    ScopedEnv env("NOTIFY_SOCKET", notify.path().string());
    edge = std::make_unique<Edge>(dir.path);
  }
  auto ready = notify.wait_for(is_ready, 10s);
  REQUIRE(ready);
  CHECK(*ready == "READY=1\nSTATUS=listening; no tunnel registered");
  CHECK(edge->metric("warren_legs").has_value());  // the admin endpoint answers once ready

  Connector connector(dir.path, {.pin = edge->pin(), .edge_port = edge->quic_port(), .backend_port = echo.port()});
  REQUIRE(connector.wait_registered(20s));
  CHECK(notify.wait_for("STATUS=serving 1 tunnel over 2 legs", 10s));

  REQUIRE(edge->process().stop(SIGTERM, 15s) == 0);
  notify.drain();
  CHECK(notify.count("READY=1") == 1);
  CHECK(notify.count("STOPPING=1") == 1);
}

// Shutdown and restart with real processes: an idle connector stops within a
// round trip, a busy one drains within its grace period, a rolling restart
// cuts nothing, and a requested public port is granted or refused aloud.

#include "loopback_services.hpp"
#include "time_scale.hpp"
#include "trickle_client.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <sstream>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

/// Lines of a log at warn level or worse.
std::vector<std::string> warnings(const std::string& log) {
  std::vector<std::string> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);)
    if (line.find(" warning ") != std::string::npos || line.find(" error ") != std::string::npos ||
        line.find(" critical ") != std::string::npos || line.find("connection lost") != std::string::npos)
      out.push_back(line);
  return out;
}

bool echo_ok(std::uint16_t port) {
  auto data = random_bytes(4096, 11);
  try {
    return echo_round_trip(port, data, 5s) == data;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

TEST_CASE("an idle connector stops within a second of SIGTERM, exit 0, without a warning") {
  TempDir dir;
  EchoServer echo;
  Edge edge(dir.path);
  Connector connector(dir.path, {.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = echo.port(),
                                 .grace_period = "30s"});
  REQUIRE(connector.wait_registered(10s));
  REQUIRE(echo_ok(edge.public_port()));  // a finished stream leaves nothing to wait for
  auto started = Clock::now();
  auto code = connector.process().stop(SIGTERM, 15s);
  auto took = Clock::now() - started;
  auto log = connector.process().stderr_text();
  INFO(log);
  REQUIRE(code);
  CHECK(*code == 0);
  CHECK(took < scaled(1s));
  CHECK(warnings(log).empty());
}

TEST_CASE("a stream open across SIGTERM finishes within grace_period and the connector then exits 0") {
  TempDir dir;
  EchoServer echo;
  Edge edge(dir.path);
  Connector connector(dir.path, {.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = echo.port(),
                                 .grace_period = "20s"});
  REQUIRE(connector.wait_registered(10s));
  // A byte every 0.5 s for 10.5 s: well past the edge's 8 s heartbeat deadline.
  TrickleClient client(edge.public_port(), 500ms, 10500ms);
  std::this_thread::sleep_for(500ms);  // the client's stream is under way (its own pace)
  REQUIRE(client.echoed() >= 1);
  ::kill(connector.process().pid(), SIGTERM);
  auto sent = Clock::now();
  bool clean = client.finished_cleanly();
  auto stream_done = Clock::now();
  INFO(client.failure());
  INFO(connector.process().stderr_text());
  INFO(edge.process().stderr_text());
  CHECK(clean);
  CHECK(client.echoed() >= 20);
  // New public connections go nowhere while the only connector drains.
  auto code = connector.process().wait_exit(5s);
  REQUIRE(code);
  CHECK(*code == 0);
  CHECK(Clock::now() - stream_done < 3s);  // it left when the stream ended, not at the grace's end
  CHECK(stream_done - sent < 15s);
  CHECK(warnings(connector.process().stderr_text()).empty());
}

TEST_CASE("a rolling restart cuts no open stream, and the replacement serves new ones") {
  TempDir dir;
  EchoServer echo;
  Edge edge(dir.path);
  ConnectorOptions first{.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = echo.port(),
                         .grace_period = "20s", .name = "old"};
  auto old = std::make_unique<Connector>(dir.path, first);
  REQUIRE(old->wait_registered(10s));
  TrickleClient client(edge.public_port(), 500ms, 8s);

  auto second = first;
  second.name = "new";
  Connector replacement(dir.path, second);
  // The replacement waits for the old legs (live connections are not evicted) …
  std::this_thread::sleep_for(2500ms);  // several of its retries, a second apart
  ::kill(old->process().pid(), SIGTERM);
  // … and takes over as soon as they drain.
  INFO(replacement.process().stderr_text());
  REQUIRE(replacement.wait_registered(10s));
  auto fresh = Clock::now();
  bool served = false;
  while (!served && Clock::now() - fresh < 5s) served = echo_ok(edge.public_port());
  CHECK(served);

  bool clean = client.finished_cleanly();
  INFO(client.failure());
  INFO(old->process().stderr_text());
  CHECK(clean);
  auto code = old->process().wait_exit(5s);
  REQUIRE(code);
  CHECK(*code == 0);
  CHECK(replacement.process().running());
}

TEST_CASE("a requested public port inside public_ports is granted and printed") {
  TempDir dir;
  EchoServer echo;
  // A range of a few ports; ask for one that is not the first (the edge would assign that one).
  std::uint16_t base = free_tcp_port();
  std::uint16_t wanted = 0;
  for (std::uint16_t p = base + 1; p <= base + 8 && !wanted; ++p)
    if (tcp_port_free(p)) wanted = p;
  REQUIRE(wanted != 0);
  Edge edge(dir.path, {.public_ports = std::to_string(base) + "-" + std::to_string(base + 8)});
  Connector connector(dir.path, {.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = echo.port(),
                                 .tunnel_extra = "public_port = " + std::to_string(wanted)});
  auto address = connector.wait_address(10s);
  INFO(connector.process().stderr_text());
  REQUIRE(address);
  CHECK(*address == "127.0.0.1:" + std::to_string(wanted));
  CHECK(echo_ok(wanted));
}

TEST_CASE("a requested public port outside public_ports is refused with a sentence and exit 3") {
  TempDir dir;
  EchoServer echo;
  Edge edge(dir.path);
  std::uint16_t outside = edge.public_port() == 65535 ? 1024 : edge.public_port() + 1;
  Connector connector(dir.path, {.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = echo.port(),
                                 .tunnel_extra = "public_port = " + std::to_string(outside)});
  auto code = connector.process().wait_exit(10s);
  auto log = connector.process().stderr_text();
  INFO(log);
  REQUIRE(code);
  CHECK(*code == 3);
  CHECK_THAT(log, Catch::Contains("public port " + std::to_string(outside) + " is outside this edge's public_ports"));
  CHECK(connector.process().lines().empty());  // no address was printed
}

TEST_CASE("when the grace period ends first, the connector cuts the open stream, says so once and exits 0") {
  TempDir dir;
  EchoServer echo;
  Edge edge(dir.path);
  Connector connector(dir.path, {.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = echo.port(),
                                 .grace_period = "2s"});
  REQUIRE(connector.wait_registered(10s));
  TrickleClient client(edge.public_port(), 500ms, 8s);  // outlives the grace period
  std::this_thread::sleep_for(500ms);                   // the client's own pace: its stream is under way
  REQUIRE(client.echoed() >= 1);
  auto started = Clock::now();
  auto code = connector.process().stop(SIGTERM, 10s);
  auto took = Clock::now() - started;
  auto log = connector.process().stderr_text();
  INFO(log);
  REQUIRE(code);
  CHECK(*code == 0);  // the grace ended as configured
  CHECK(took >= 1900ms);
  CHECK(took < scaled(5s));
  CHECK_THAT(log, Catch::Contains("grace period of 2s is over: cutting 1 open stream(s)"));
  CHECK_FALSE(client.finished_cleanly());
}

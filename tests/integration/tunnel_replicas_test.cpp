// Connector replicas with real processes: two `warren connect` started from
// the same config both register and both serve (each has its own backend, so
// the test can tell), without evicting each other; killing one loses no new
// connection once the edge stops choosing its silent legs; one replica over
// max_replicas is refused with a sentence and joins when a place frees.

#include "loopback_services.hpp"
#include "time_scale.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <iostream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

std::size_t count_lines(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

/// The id a connector printed at start ("connector id 3f9a…").
std::string connector_id(Connector& connector) {
  std::smatch m;
  auto err = connector.process().stderr_text();
  return std::regex_search(err, m, std::regex(R"(connector id ([0-9a-f]{16}))")) ? m[1].str() : std::string();
}

bool echo_ok(std::uint16_t port, std::chrono::milliseconds timeout = 5s) {
  auto data = random_bytes(2048, 5);
  try {
    return echo_round_trip(port, data, timeout) == data;
  } catch (const std::exception&) {
    return false;
  }
}

/// Two connectors of tunnel "web", each with its own echo backend.
struct TwoReplicas {
  TempDir dir;
  EchoServer backend_a, backend_b;
  Edge edge;
  Connector a, b;

  explicit TwoReplicas(EdgeOptions edge_options = {})
      : edge(dir.path, std::move(edge_options)),
        a(dir.path, options("a", backend_a.port())),
        b(dir.path, options("b", backend_b.port())) {}

  ConnectorOptions options(std::string name, std::uint16_t backend) const {
    return {.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = backend, .name = std::move(name)};
  }
  std::string edge_log() { return edge.process().stderr_text(); }
};

}  // namespace

TEST_CASE("two connectors from the same config are replicas: both serve, neither evicts the other") {
  TwoReplicas t;
  REQUIRE(t.a.wait_registered(10s));
  INFO(t.edge_log());
  INFO(t.b.process().stderr_text());
  REQUIRE(t.b.wait_registered(10s));
  // Both legs of both replicas, and the edge saying who joined.
  REQUIRE(eventually([&] { return count_lines(t.edge_log(), "registered from") >= 4; }, 10s));
  auto a_id = connector_id(t.a), b_id = connector_id(t.b);
  CHECK(a_id.size() == 16);
  CHECK(b_id.size() == 16);
  CHECK(a_id != b_id);
  auto log = t.edge_log();
  CHECK(count_lines(log, "joined (") == 2);
  CHECK(count_lines(log, "joined (2 of 4)") == 1);
  CHECK(count_lines(log, "tunnel 'web': replica " + a_id + " joined") == 1);
  CHECK(count_lines(log, "tunnel 'web': replica " + b_id + " joined") == 1);
  CHECK(t.edge.metric("warren_tunnel_replicas{tunnel=\"web\"}") == 2);

  // Ten seconds of requests: every one served, by both backends, and not
  // one leg replaced or registered again meanwhile.
  auto registrations = count_lines(t.edge_log(), "registered from");
  int failures = 0, requests = 0;
  auto start = Clock::now();
  while (Clock::now() - start < 10s) {
    ++requests;
    failures += echo_ok(t.edge.public_port()) ? 0 : 1;
    std::this_thread::sleep_for(20ms);
  }
  log = t.edge_log();
  INFO(requests << " requests: backend a saw " << t.backend_a.connections() << ", b saw " << t.backend_b.connections());
  CHECK(failures == 0);
  CHECK(count_lines(log, "replaces an older connection") == 0);
  CHECK(count_lines(log, "registered from") == registrations);
  CHECK(count_lines(log, "refused connection") == 0);
  CHECK(count_lines(log, " left, ") == 0);
  // Round robin over the replicas: each gets half, give or take a stream.
  CHECK(t.backend_a.connections() >= requests / 2 - 1);
  CHECK(t.backend_b.connections() >= requests / 2 - 1);
}

TEST_CASE("when one replica is SIGKILLed, new connections keep succeeding through the other") {
  TwoReplicas t;
  REQUIRE(t.a.wait_registered(10s));
  REQUIRE(t.b.wait_registered(10s));
  REQUIRE(eventually([&] { return count_lines(t.edge_log(), "registered from") >= 4; }, 10s));
  for (int i = 0; i < 8; ++i) REQUIRE(echo_ok(t.edge.public_port()));
  REQUIRE(t.backend_b.connections() > 0);

  // A request every 100 ms, each on its own thread, from the kill on: the
  // ones the edge sends to the dead replica before it falls silent fail
  // (reset when its legs time out); after that none may.
  struct Outcome {
    Clock::duration started;
    bool ok;
  };
  std::mutex mutex;
  std::vector<Outcome> outcomes;
  std::vector<std::thread> clients;
  ::kill(t.b.process().pid(), SIGKILL);
  auto killed = Clock::now();
  for (int i = 0; i < 60; ++i) {
    clients.emplace_back([&, port = t.edge.public_port()] {
      auto started = Clock::now() - killed;
      bool ok = echo_ok(port, 15s);
      std::lock_guard lock(mutex);
      outcomes.push_back({started, ok});
    });
    std::this_thread::sleep_for(100ms);
  }
  for (auto& c : clients) c.join();

  // The edge stops choosing a leg silent for suspect_after = max(250 ms, 3 x
  // the 200 ms heartbeat) = 600 ms; a busy machine may add a little.
  constexpr auto window = 600ms;
  Clock::duration last_failure{};
  int failed = 0, late_failures = 0;
  for (const auto& o : outcomes) {
    if (o.ok) continue;
    ++failed;
    last_failure = std::max(last_failure, o.started);
    late_failures += o.started > window + 900ms ? 1 : 0;
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(last_failure).count();
  std::cerr << "replica killed: " << failed << " of " << outcomes.size() << " requests failed, the last one started "
            << ms << " ms after the kill\n";
  INFO(failed << " failed; the last started " << ms << " ms after the kill");
  INFO(t.edge_log());
  CHECK(late_failures == 0);
  CHECK(outcomes.size() == 60);
  // Once the dead legs time out, the edge says the replica left.
  CHECK(eventually([&] { return count_lines(t.edge_log(), "left, its last leg ended (1 of 4)") == 1; }, 15s));
  CHECK(echo_ok(t.edge.public_port()));
}

TEST_CASE("a replica over max_replicas is refused naming the tunnel and the limit, and joins when one leaves") {
  TwoReplicas t({.more_tunnels = "max_replicas = 2\n"});
  REQUIRE(t.a.wait_registered(10s));
  REQUIRE(t.b.wait_registered(10s));
  EchoServer backend_c;
  Connector c(t.dir.path, t.options("c", backend_c.port()));
  const std::string sentence =
      "tunnel 'web' has max_replicas = 2 on this edge and that many connectors serve it already";
  INFO(c.process().stderr_text());
  REQUIRE(eventually([&] { return c.process().stderr_text().find(sentence) != std::string::npos; }, 10s));
  CHECK_THAT(c.process().stderr_text(), Catch::Contains("retrying in"));
  CHECK(count_lines(t.edge_log(), sentence) >= 1);
  CHECK(t.edge.metric("warren_registrations_refused_total{reason=\"tunnel_limit\"}") >= 1);
  CHECK(c.process().running());  // refused for now, not for good

  // A leaves (SIGTERM: unregister, drain): C takes its place on its next try.
  auto code = t.a.process().stop(SIGTERM, 10s);
  CHECK(code == 0);
  auto left = Clock::now();
  REQUIRE(c.wait_registered(15s));
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - left).count();
  std::cerr << "standby replica joined " << took << " ms after a replica left\n";
  CHECK(took < 5000 + scaled(3000ms).count());  // the refusal's 5 s retry_after, plus a busy machine
  // C's backend gets its share of new connections.
  CHECK(eventually(
      [&] {
        echo_ok(t.edge.public_port());
        return backend_c.connections() > 0;
      },
      10s));
}

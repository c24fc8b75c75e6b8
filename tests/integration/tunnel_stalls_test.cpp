// Public clients or a backend that stop reading may cost only their own
// streams' windows: with 64 of them on a one-leg tunnel, a fresh public
// client still gets its bytes within 1 s and the leg is never dropped.
// WARREN_STALL_SECONDS sets the hold (default 15 s, past the edge's 8 s
// heartbeat limit; the acceptance run uses 60); each case prints the
// edge's and the connector's RSS.

#include "loopback_services.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <regex>
#include <thread>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t stalled = 64;

std::chrono::seconds hold_time() {
  const char* text = std::getenv("WARREN_STALL_SECONDS");
  return std::chrono::seconds(text ? std::max(1, std::atoi(text)) : 15);
}

/// The value of the sample `name` (labels included); -1 if absent.
double metric(const std::string& text, const std::string& name) { return metric_value(text, name).value_or(-1); }

/// VmRSS of `pid` in KiB.
long rss_kib(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

/// Runs until `counter()` has not moved for 500 ms: the stalled path is full.
bool wait_until_still(const std::function<std::uint64_t()>& counter, std::chrono::milliseconds limit) {
  auto give_up = std::chrono::steady_clock::now() + limit;
  for (std::uint64_t last = ~std::uint64_t{0}; counter() != last;) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    last = counter();
    std::this_thread::sleep_for(500ms);  // sampling a rate, not waiting for an event
  }
  return true;
}

/// Time a fresh public client takes to get 4 KiB echoed by the backend, or
/// nullopt if it does not get them within 5 s.
std::optional<std::chrono::milliseconds> fresh_echo(std::uint16_t port) {
  auto payload = random_bytes(4096, 21);
  std::vector<std::uint8_t> request(payload.size() + 1, 'e');  // the mode byte, then the payload
  std::copy(payload.begin(), payload.end(), request.begin() + 1);
  auto start = std::chrono::steady_clock::now();
  try {
    if (echo_round_trip(port, request, 5s) != payload) return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

/// The connector's "heartbeat round trip" trace lines, in ms, sorted.
std::vector<double> heartbeat_round_trips(const std::string& log) {
  static const std::regex line(R"(heartbeat round trip ([0-9.]+) (ns|us|ms|s)\b)");
  std::vector<double> out;
  for (std::sregex_iterator it(log.begin(), log.end(), line), end; it != end; ++it) {
    double v = std::stod((*it)[1]);
    auto unit = (*it)[2].str();
    out.push_back(unit == "ns" ? v / 1e6 : unit == "us" ? v / 1e3 : unit == "ms" ? v : v * 1e3);
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// An edge and a one-leg connector in front of a ScriptedBackend.
struct StallTunnel {
  TempDir dir;
  ScriptedBackend backend;
  Edge edge{dir.path};
  Connector connector{dir.path,
                      {.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = backend.port(), .ha_connections = 1,
                       .extra_args = "--log-level=trace"}};  // for its heartbeat round trips
  long edge_rss_idle = 0, connector_rss_idle = 0;  ///< KiB, once registered

  StallTunnel() {
    if (!connector.wait_registered(10s))
      throw std::runtime_error("the connector did not register:\n" + connector.process().stderr_text());
    edge_rss_idle = rss_kib(edge.process().pid());
    connector_rss_idle = rss_kib(connector.process().pid());
  }

  /// Holds for hold_time(), checking every second that a fresh client gets
  /// through within 1 s, the leg stays, and the stalled clients keep their streams.
  void check_while_stalled(const StalledClients& clients, const char* direction) {
    auto registrations = metric(edge.metrics(), "warren_registrations_total");
    REQUIRE(registrations == 1);
    std::chrono::milliseconds worst{0};
    int failed = 0, tries = 0;
    auto next = std::chrono::steady_clock::now();
    auto until = next + hold_time();
    while (next < until) {
      auto took = fresh_echo(edge.public_port());
      ++tries;
      if (!took || *took >= 1s) ++failed;
      if (took) worst = std::max(worst, *took);
      next += 1s;  // one fresh client a second
      std::this_thread::sleep_until(next);
    }
    auto text = edge.metrics();
    auto rtt = heartbeat_round_trips(connector.process().stderr_text());
    std::cout << "stalls (" << direction << "): heartbeat round trips " << rtt.size() << ", p50 "
              << (rtt.empty() ? 0.0 : rtt[rtt.size() / 2]) << " ms, max " << (rtt.empty() ? 0.0 : rtt.back()) << " ms"
              << std::endl;
    std::cout << "stalls (" << direction << "): " << stalled << " stalled streams held " << hold_time().count()
              << " s; fresh echoes " << tries - failed << "/" << tries << " within 1 s, slowest " << worst.count()
              << " ms; RSS KiB (idle -> stalled): edge " << edge_rss_idle << " -> " << rss_kib(edge.process().pid())
              << ", connector " << connector_rss_idle << " -> " << rss_kib(connector.process().pid()) << std::endl;
    INFO(edge.process().stderr_text());
    INFO(connector.process().stderr_text());
    CHECK(failed == 0);
    CHECK(metric(text, "warren_legs") == 1);
    CHECK(metric(text, "warren_registrations_total") == registrations);
    CHECK(edge.process().stderr_text().find("no heartbeat") == std::string::npos);
    CHECK(clients.closed_by_peer() == 0);
    // Heartbeats went on at their pace (one per 500 ms) and kept a prompt round trip.
    CHECK(rtt.size() >= static_cast<std::size_t>(hold_time().count()));
    CHECK((!rtt.empty() && rtt.back() < 500.0));
  }
};

}  // namespace

TEST_CASE("64 public clients that never read leave the leg alive and fresh clients served") {
  StallTunnel t;
  REQUIRE(fresh_echo(t.edge.public_port()));
  // Each asks the backend for an endless stream of zeros and never reads.
  StalledClients clients(t.edge.public_port(), stalled, "z", false);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (t.backend.connections('z') < static_cast<int>(stalled) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  REQUIRE(t.backend.connections('z') == static_cast<int>(stalled));
  REQUIRE(wait_until_still([&] { return t.backend.zeros_written(); }, 20s));
  t.check_while_stalled(clients, "backend to public");
}

TEST_CASE("a backend that never reads 64 streams leaves the leg alive and fresh clients served") {
  StallTunnel t;
  REQUIRE(fresh_echo(t.edge.public_port()));
  // Each sends without end to a backend connection that never reads.
  StalledClients clients(t.edge.public_port(), stalled, "s", true);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (t.backend.connections('s') < static_cast<int>(stalled) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  REQUIRE(t.backend.connections('s') == static_cast<int>(stalled));
  REQUIRE(wait_until_still([&] { return clients.bytes_sent(); }, 20s));
  t.check_while_stalled(clients, "public to backend");
}

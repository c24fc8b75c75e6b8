// Tunnels keep serving on every leg for as long as they run: a quick tunnel
// (from `warren quick` and from a config without id) and named tunnels, with
// 2 and 4 legs, echo byte for byte at 1 s, 10 s and 30 s, and the edge's
// registry counts every leg the whole time.

#include "loopback_services.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <regex>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

/// The value of `warren_legs` in the edge's metrics, or -1.
long legs_metric(const Edge& edge) { return static_cast<long>(edge.metric("warren_legs").value_or(-1)); }

/// Waits up to `deadline` for the edge to count `legs` legs.
bool legs_reach(const Edge& edge, long legs, std::chrono::milliseconds deadline) {
  auto until = Clock::now() + deadline;
  while (Clock::now() < until)
    if (legs_metric(edge) == legs) return true;
  return false;
}

/// `count` ports in a row that can be bound now, from a free one.
std::uint16_t free_port_run(int count) {
  for (int tries = 0; tries < 50; ++tries) {
    auto base = free_tcp_port();
    bool all = true;
    for (int i = 0; i < count && all; ++i) all = tcp_port_free(static_cast<std::uint16_t>(base + i));
    if (all) return base;
  }
  throw std::runtime_error("no run of free ports");
}

}  // namespace

TEST_CASE("quick and named tunnels with 2 and 4 legs serve byte for byte at 1 s, 10 s and 30 s") {
  TempDir dir;
  EchoServer echo;
  auto base = free_port_run(4);
  Edge edge(dir.path, {.quick_tunnels = true,
                       .public_ports = std::to_string(base) + "-" + std::to_string(base + 3),
                       .more_tunnels = "[[tunnels]]\nid = \"four\"\ntoken = \"f0ur\"\n"});
  // `warren quick` as a user runs it (2 legs), a config-file quick tunnel with 4,
  // and named tunnels with 2 and 4.
  BackgroundProcess quick({WARREN_BINARY, "quick", "--edge", "127.0.0.1:" + std::to_string(edge.quic_port()), "--to",
                           "127.0.0.1:" + std::to_string(echo.port()), "--fingerprint", edge.pin()},
                          dir.path / "quick.err");
  ConnectorOptions common{.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = echo.port()};
  auto quick4_options = common;
  quick4_options.quick = true;
  quick4_options.ha_connections = 4;
  quick4_options.name = "quick4";
  auto named4_options = common;
  named4_options.tunnel_id = "four";
  named4_options.token = "f0ur";
  named4_options.ha_connections = 4;
  named4_options.name = "named4";
  Connector quick4(dir.path, quick4_options);
  Connector named2(dir.path, common);
  Connector named4(dir.path, named4_options);

  auto quick_line = quick.wait_for_line(std::regex(R"(^(127\.0\.0\.1:\d+)$)"), 15s);
  auto quick4_address = quick4.wait_address(15s);
  auto named2_address = named2.wait_address(15s);
  auto named4_address = named4.wait_address(15s);
  INFO(quick.stderr_text() << quick4.process().stderr_text() << named2.process().stderr_text()
                           << named4.process().stderr_text());
  REQUIRE(quick_line);
  REQUIRE(quick4_address);
  REQUIRE(named2_address);
  REQUIRE(named4_address);
  std::vector<std::pair<std::string, std::uint16_t>> tunnels{{"warren quick (2 legs)", port_of((*quick_line)[1])},
                                                             {"quick from a config (4 legs)", port_of(*quick4_address)},
                                                             {"named (2 legs)", port_of(*named2_address)},
                                                             {"named (4 legs)", port_of(*named4_address)}};
  REQUIRE(legs_reach(edge, 12, 10s));
  auto registered = Clock::now();

  for (auto at : {1s, 10s, 30s}) {
    auto when = registered + at;
    while (Clock::now() < when) std::this_thread::sleep_for(50ms);  // the schedule the test checks against
    for (const auto& [name, port] : tunnels) {
      auto data = random_bytes(256 * 1024, port);
      std::vector<std::uint8_t> back;
      try {
        back = echo_round_trip(port, data, 10s);
      } catch (const std::exception& e) {
        FAIL_CHECK(name << " at " << at.count() << " s: " << e.what());
      }
      INFO(name << " at " << at.count() << " s");
      CHECK(sha256_hex(back) == sha256_hex(data));
    }
    INFO("at " << at.count() << " s");
    CHECK(legs_metric(edge) == 12);
    CHECK(quick.running());
    CHECK(quick4.process().running());
    CHECK(named2.process().running());
    CHECK(named4.process().running());
  }
}

// Bringing a tunnel up: discovery, leg 0 first, the other legs staggered
// onto distinct edges, and what a first failure does.

#include "supervisor_harness.hpp"

#include <catch2/catch.hpp>

using namespace warren::core::supervisor;
using namespace warren::core::supervisor::test;
using warren::sdk::errc;

TEST_CASE("leg 0 registers before the other legs start, then they start a stagger apart", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.ha_connections = 3;
  Harness h(config);
  auto& s = h.supervisor;

  s.handle_start(h.now());
  CHECK(h.drain() == Lines{"Resolve"});
  s.handle_addresses_resolved(h.now(), three_edges());
  CHECK(h.drain() == Lines{"Dial leg=0 10.0.0.1:7844 transport=0"});
  s.handle_dial_succeeded(h.now(), 0);
  CHECK(h.drain() == Lines{"Register leg=0 replace=no"});
  // However long registration takes, nobody else dials meanwhile.
  CHECK(h.advance(14s).empty());

  s.handle_registered(h.now(), 0, {});
  CHECK(h.drain().empty());
  CHECK(h.advance(999ms).empty());
  CHECK(h.advance(1ms) == Lines{"Dial leg=1 10.0.0.2:7844 transport=0"});
  CHECK(h.advance(1s) == Lines{"Dial leg=2 10.0.0.3:7844 transport=0"});
  s.handle_dial_succeeded(h.now(), 2);
  s.handle_dial_succeeded(h.now(), 1);
  CHECK(h.drain() == Lines{"Register leg=2 replace=no", "Register leg=1 replace=no"});
}

TEST_CASE("with one address every leg shares it", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.stagger = 0s;
  Harness h(config);
  h.supervisor.handle_start(h.now());
  h.supervisor.handle_addresses_resolved(h.now(), {edge("192.0.2.1", 443)});
  h.supervisor.handle_dial_succeeded(h.now(), 0);
  h.supervisor.handle_registered(h.now(), 0, {});
  // Zero stagger: leg 1 dials in the same step.
  CHECK(h.drain() == Lines{"Resolve", "Dial leg=0 192.0.2.1:443 transport=0", "Register leg=0 replace=no",
                           "Dial leg=1 192.0.2.1:443 transport=0"});
}

TEST_CASE("a failed first dial of leg 0 is retried on the next address", "[supervisor]") {
  Harness h;
  auto& s = h.supervisor;
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), three_edges());
  h.drain();
  s.handle_dial_failed(h.now(), 0, errc::dial_failed);
  CHECK(h.drain() == Lines{"RetryScheduled leg=0 in 1s (dial failed)"});
  CHECK(h.advance(999ms).empty());
  CHECK(h.advance(1ms) == Lines{"Dial leg=0 10.0.0.2:7844 transport=0"});
  s.handle_dial_succeeded(h.now(), 0);
  // Nothing was ever registered, so nothing needs replacing.
  CHECK(h.drain() == Lines{"Register leg=0 replace=no"});
}

TEST_CASE("with --no-reconnect the first failure ends the run with exit 1", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.no_reconnect = true;
  Harness h(config);
  auto& s = h.supervisor;
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), three_edges());
  h.drain();
  s.handle_dial_failed(h.now(), 0, errc::dial_failed);
  CHECK(h.drain() == Lines{"Exit 1 (dial failed)"});
  CHECK(s.finished());
  CHECK_FALSE(s.next_timeout());
}

TEST_CASE("discovery failures are retried with backoff and an old list is reused", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.ha_connections = 1;
  Harness h(config);
  auto& s = h.supervisor;
  s.handle_start(h.now());
  s.handle_resolve_failed(h.now(), errc::discovery_failed);
  CHECK(h.drain() == Lines{"Resolve", "RetryScheduled resolve in 1s (edge discovery failed)"});
  CHECK(h.advance(1s) == Lines{"Resolve"});
  // An empty answer is no answer.
  s.handle_addresses_resolved(h.now(), {});
  CHECK(h.drain() == Lines{"RetryScheduled resolve in 1s (no edge addresses found)"});
  CHECK(h.advance(1s) == Lines{"Resolve"});
  s.handle_addresses_resolved(h.now(), three_edges());
  CHECK(h.drain() == Lines{"Dial leg=0 10.0.0.1:7844 transport=0"});

  SECTION("addresses older than address_refresh are re-resolved before a dial") {
    s.handle_dial_succeeded(h.now(), 0);
    s.handle_registered(h.now(), 0, {});
    h.drain();
    CHECK(h.advance(5min).empty());
    s.handle_connection_lost(h.now(), 0, errc::peer_closed);
    CHECK(h.drain() == Lines{"RetryScheduled leg=0 in 1s (peer closed the connection)"});
    CHECK(h.advance(1s) == Lines{"Resolve"});
    // A failed lookup falls back to the old list rather than stalling.
    s.handle_resolve_failed(h.now(), errc::discovery_failed);
    CHECK(h.drain() == Lines{"Dial leg=0 10.0.0.2:7844 transport=0"});
  }
}

TEST_CASE("an invalid config is refused at construction", "[supervisor]") {
  FixedBackoff backoff(1s);
  warren::ip_rotation::IpRotationPolicy address({});
  warren::fallback::CountingFallback fallback({});
  warren::sdk::SeededRandom random(1);
  SupervisorConfig config;
  config.ha_connections = 5;
  CHECK_THROWS_AS(Supervisor(config, backoff, random, &address, &fallback), std::invalid_argument);
  config.ha_connections = 0;
  CHECK_THROWS_AS(Supervisor(config, backoff, random, &address, &fallback), std::invalid_argument);
  // The address and fallback roles are always policies now (bundled plugins by default).
  CHECK_THROWS_AS(Supervisor(SupervisorConfig{}, backoff, random, nullptr, &fallback), std::invalid_argument);
  CHECK_THROWS_AS(Supervisor(SupervisorConfig{}, backoff, random, &address, nullptr), std::invalid_argument);
  config = {};
  config.heartbeat_timeout = config.heartbeat_interval;
  CHECK(find_problem(config).value() == "heartbeat timeout must be longer than the heartbeat interval");
  config = {};
  config.transport_count = 0;
  CHECK(find_problem(config).has_value());
  CHECK_FALSE(find_problem(SupervisorConfig{}).has_value());
}

TEST_CASE("discovery is asked again at most discovery_retry_max apart whatever the backoff's cap", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.ha_connections = 1;
  // The backoff allows 30 s (its default cap); DNS that came back would wait that long.
  Harness h(config, 30s);
  auto& s = h.supervisor;
  s.handle_start(h.now());
  CHECK(h.drain() == Lines{"Resolve"});
  for (int i = 0; i < 3; ++i) {
    s.handle_resolve_failed(h.now(), errc::discovery_failed);
    CHECK(h.drain() == Lines{"RetryScheduled resolve in 5s (edge discovery failed)"});
    CHECK(h.advance(4999ms).empty());
    CHECK(h.advance(1ms) == Lines{"Resolve"});
  }
  s.handle_addresses_resolved(h.now(), three_edges());
  CHECK(h.drain() == Lines{"Dial leg=0 10.0.0.1:7844 transport=0"});
  // A leg's own retries keep the backoff's delay.
  s.handle_dial_failed(h.now(), 0, errc::dial_failed);
  CHECK(h.drain() == Lines{"RetryScheduled leg=0 in 30s (dial failed)"});
}

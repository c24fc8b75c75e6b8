// The supervisor with the ip-rotation plugin's address policy: legs re-home
// to unused edges, a failed edge is avoided by every leg, discovery is asked
// again when every address is used up, and a connectivity error moves a leg
// to its next transport.

#include "supervisor_harness.hpp"

#include <catch2/catch.hpp>

using namespace warren::core::supervisor;
using namespace warren::core::supervisor::test;
using warren::sdk::errc;

TEST_CASE("a leg whose edge dies re-homes to an unused edge, and the others avoid the dead one", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.ha_connections = 2;
  Harness h(config);
  auto& s = h.supervisor;
  h.bring_up_leg0();
  CHECK(h.advance(1s) == Lines{"Dial leg=1 10.0.0.2:7844 transport=0"});
  s.handle_dial_succeeded(h.now(), 1);
  s.handle_registered(h.now(), 1, {});
  h.drain();
  s.handle_connection_lost(h.now(), 1, errc::heartbeat_timeout);
  CHECK(h.drain() == Lines{"RetryScheduled leg=1 in 1s (heartbeat timeout)"});
  CHECK(h.advance(1s) == Lines{"Dial leg=1 10.0.0.3:7844 transport=0"});
  s.handle_dial_succeeded(h.now(), 1);
  s.handle_registered(h.now(), 1, {});
  h.drain();
  // Leg 0's edge closes on it: it moves on, and not to the edge that just
  // timed out (free, but failed 1 s ago): every address is used up, so
  // discovery is asked first, and then the least recently failed one is used.
  s.handle_connection_lost(h.now(), 0, errc::peer_closed);
  CHECK(h.drain() == Lines{"RetryScheduled leg=0 in 1s (peer closed the connection)"});
  CHECK(h.advance(1s) == Lines{"Resolve"});
  s.handle_addresses_resolved(h.now(), {edge("10.0.0.1"), edge("10.0.0.2"), edge("10.0.0.3"), edge("10.0.0.4")});
  CHECK(h.drain() == Lines{"Dial leg=0 10.0.0.4:7844 transport=0"});
}

TEST_CASE("when every address is used up the supervisor asks discovery again, once per failure", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.ha_connections = 1;
  Harness h(config);
  auto& s = h.supervisor;
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), {edge("10.0.0.1"), edge("10.0.0.2")});
  CHECK(h.drain() == Lines{"Resolve", "Dial leg=0 10.0.0.1:7844 transport=0"});
  s.handle_dial_failed(h.now(), 0, errc::dial_failed);
  h.drain();
  CHECK(h.advance(1s) == Lines{"Dial leg=0 10.0.0.2:7844 transport=0"});
  s.handle_dial_failed(h.now(), 0, errc::tls_failed);
  h.drain();
  CHECK(h.advance(1s) == Lines{"Resolve"});

  SECTION("a fresh answer with a new edge is used at once") {
    s.handle_addresses_resolved(h.now(), {edge("10.0.0.3"), edge("10.0.0.1"), edge("10.0.0.2")});
    CHECK(h.drain() == Lines{"Dial leg=0 10.0.0.3:7844 transport=0"});
  }
  SECTION("the same answer: the address given back soonest, without asking again") {
    s.handle_addresses_resolved(h.now(), {edge("10.0.0.1"), edge("10.0.0.2")});
    CHECK(h.drain() == Lines{"Dial leg=0 10.0.0.1:7844 transport=0"});
  }
  SECTION("discovery fails: the last list still serves") {
    s.handle_resolve_failed(h.now(), errc::discovery_failed);
    CHECK(h.drain() == Lines{"Dial leg=0 10.0.0.1:7844 transport=0"});
  }
}

TEST_CASE("a failed address is given back after give_back_after", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.ha_connections = 1;
  warren::ip_rotation::RotationConfig rotation;
  rotation.give_back_after = 10s;
  Harness h(config, 1s, {}, rotation);
  auto& s = h.supervisor;
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), three_edges());
  CHECK(h.drain() == Lines{"Resolve", "Dial leg=0 10.0.0.1:7844 transport=0"});
  s.handle_dial_failed(h.now(), 0, errc::dial_failed);
  h.drain();
  CHECK(h.advance(1s) == Lines{"Dial leg=0 10.0.0.2:7844 transport=0"});
  s.handle_dial_succeeded(h.now(), 0);
  s.handle_registered(h.now(), 0, {});
  h.drain();
  h.advance(9s);  // 10 s after 10.0.0.1 failed; the retry comes 1 s later
  s.handle_connection_lost(h.now(), 0, errc::peer_closed);
  h.drain();
  CHECK(h.advance(1s) == Lines{"Dial leg=0 10.0.0.1:7844 transport=0"});  // given back, first in order
}

TEST_CASE("a connectivity error after max_edge_addr_retries moves a leg to its next transport", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.ha_connections = 1;
  config.transport_count = 2;
  warren::ip_rotation::RotationConfig rotation;
  rotation.max_edge_addr_retries = 2;
  Harness h(config, 1s, {}, rotation, no_probes(100));  // only the connectivity error moves it
  auto& s = h.supervisor;
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), three_edges());
  CHECK(h.drain() == Lines{"Resolve", "Dial leg=0 10.0.0.1:7844 transport=0"});
  // Session failures count too: the QUIC path dies on every edge.
  s.handle_dial_succeeded(h.now(), 0);
  s.handle_connection_lost(h.now(), 0, errc::idle_timeout);
  h.drain();
  CHECK(h.advance(1s) == Lines{"Dial leg=0 10.0.0.2:7844 transport=0"});
  s.handle_dial_succeeded(h.now(), 0);
  s.handle_connection_lost(h.now(), 0, errc::idle_timeout);
  h.drain();
  CHECK(h.advance(1s) == Lines{"Dial leg=0 10.0.0.3:7844 transport=1"});
  s.handle_dial_succeeded(h.now(), 0);
  s.handle_registered(h.now(), 0, {});
  h.drain();
  // Registered: the count starts again.
  s.handle_connection_lost(h.now(), 0, errc::heartbeat_timeout);
  h.drain();
  CHECK(h.advance(1s) == Lines{"Resolve"});  // every address failed within give_back_after
  s.handle_addresses_resolved(h.now(), three_edges());
  CHECK(h.drain() == Lines{"Dial leg=0 10.0.0.1:7844 transport=1"});
}

TEST_CASE("a leg sticks to its address across rate limits and re-resolved lists", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.ha_connections = 1;
  config.address_refresh = 1s;  // every attempt asks discovery again
  Harness h(config);
  auto& s = h.supervisor;
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), three_edges());
  h.drain();
  s.handle_dial_succeeded(h.now(), 0);
  s.handle_rejected(h.now(), 0, errc::rate_limited, false, 0s);
  h.drain();
  CHECK(h.advance(1s) == Lines{"Resolve"});
  s.handle_addresses_resolved(h.now(), {edge("10.0.0.3"), edge("10.0.0.2"), edge("10.0.0.1")});
  CHECK(h.drain() == Lines{"Dial leg=0 10.0.0.1:7844 transport=0"});
}

// Heartbeats with a deadline, and the graceful stop.

#include "supervisor_harness.hpp"

#include <catch2/catch.hpp>

using namespace warren::core::connector;
using namespace warren::core::connector::test;
using warren::sdk::errc;

namespace {

SupervisorConfig one_leg_bore_heartbeats() {
  SupervisorConfig config;  // bore's 500 ms interval, 8 s timeout
  config.ha_connections = 1;
  return config;
}

}  // namespace

TEST_CASE("heartbeats go out every interval and acks keep the leg alive", "[supervisor]") {
  Harness h(one_leg_bore_heartbeats());
  auto& s = h.supervisor;
  h.bring_up_leg0();
  CHECK(h.advance(499ms).empty());
  CHECK(h.advance(1ms) == Lines{"SendHeartbeat leg=0 seq=1"});
  CHECK(h.advance(500ms) == Lines{"SendHeartbeat leg=0 seq=2"});
  s.handle_heartbeat_ack(h.now(), 0, 2);
  // Acked at t=1s: alive until t=9s even though seq 1 was never acked.
  auto lines = h.advance(7999ms);
  CHECK(lines.size() == 15);  // seq 3 .. 17
  CHECK(lines.back() == "SendHeartbeat leg=0 seq=17");
  CHECK(h.advance(1ms) == Lines{"CloseLeg leg=0 (heartbeat timeout)", "RetryScheduled leg=0 in 1s (heartbeat timeout)"});
}

TEST_CASE("acks that are stale or never sent do not count", "[supervisor]") {
  Harness h(one_leg_bore_heartbeats());
  auto& s = h.supervisor;
  h.bring_up_leg0();
  h.advance(1s);                          // seq 1, 2
  s.handle_heartbeat_ack(h.now(), 0, 99);  // never sent
  s.handle_heartbeat_ack(h.now(), 0, 0);   // never sent either
  auto lines = h.advance(7s);              // t = 8s: the registration-time deadline
  CHECK(lines.back() == "RetryScheduled leg=0 in 1s (heartbeat timeout)");
}

TEST_CASE("an edge-assigned interval replaces ours and the timeout covers two beats", "[supervisor]") {
  Harness h(one_leg_bore_heartbeats());
  auto& s = h.supervisor;
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), three_edges());
  s.handle_dial_succeeded(h.now(), 0);
  s.handle_registered(h.now(), 0, {5s});
  h.drain();
  CHECK(h.advance(4999ms).empty());
  CHECK(h.advance(1ms) == Lines{"SendHeartbeat leg=0 seq=1"});
  // Timeout: max(8s, 2 x 5s) = 10s after registration.
  CHECK(h.advance(4999ms).empty());
  CHECK(h.advance(1ms) == Lines{"CloseLeg leg=0 (heartbeat timeout)", "RetryScheduled leg=0 in 1s (heartbeat timeout)"});
}

TEST_CASE("shutdown stops streams, unregisters live legs and waits for the drain", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.ha_connections = 3;
  config.grace_period = 30s;
  Harness h(config);
  auto& s = h.supervisor;
  h.bring_up_leg0();
  h.advance(1s);
  s.handle_dial_succeeded(h.now(), 1);
  s.handle_registered(h.now(), 1, {});
  h.advance(1s);  // leg 2 dialing
  h.drain();

  s.handle_shutdown(h.now());
  CHECK(h.drain() == Lines{"StopAcceptingStreams", "Unregister leg=0 grace=30s", "Unregister leg=1 grace=30s",
                           "CloseLeg leg=2 (shutting down)"});
  // Late news about the abandoned dial changes nothing.
  s.handle_dial_succeeded(h.now(), 2);
  CHECK(h.drain().empty());

  SECTION("streams drained and every Unregister delivered: exit 0") {
    s.handle_streams_drained(h.now());
    s.handle_unregister_done(h.now(), 0);
    CHECK(h.drain().empty());  // leg 1 has not confirmed yet
    s.handle_unregister_done(h.now(), 1);
    CHECK(h.drain() == Lines{"CloseLeg leg=0 (shutting down)", "CloseLeg leg=1 (shutting down)", "Exit 0 (none)"});
  }
  SECTION("the grace period ends the wait") {
    s.handle_unregister_done(h.now(), 0);
    CHECK(h.advance(29s).empty());
    CHECK(h.advance(1s) == Lines{"CloseLeg leg=0 (shutting down)", "CloseLeg leg=1 (shutting down)", "Exit 0 (none)"});
  }
  SECTION("losing every connection leaves nothing to drain") {
    s.handle_connection_lost(h.now(), 0, errc::peer_closed);
    CHECK(h.drain().empty());
    s.handle_connection_lost(h.now(), 1, errc::peer_closed);
    CHECK(h.drain() == Lines{"Exit 0 (none)"});
  }
  SECTION("a second shutdown stops at once") {
    s.handle_shutdown(h.now());
    CHECK(h.drain() == Lines{"CloseLeg leg=0 (shutting down)", "CloseLeg leg=1 (shutting down)", "Exit 0 (none)"});
  }
  SECTION("no reconnects and no heartbeat timeouts while draining") {
    CHECK(h.advance(10min) == Lines{"CloseLeg leg=0 (shutting down)", "CloseLeg leg=1 (shutting down)", "Exit 0 (none)"});
  }
}

TEST_CASE("shutdown with nothing registered exits at once", "[supervisor]") {
  Harness h;
  auto& s = h.supervisor;
  SECTION("before start") {
    s.handle_shutdown(h.now());
    CHECK(h.drain() == Lines{"Exit 0 (none)"});
  }
  SECTION("while resolving") {
    s.handle_start(h.now());
    s.handle_shutdown(h.now());
    CHECK(h.drain() == Lines{"Resolve", "StopAcceptingStreams", "Exit 0 (none)"});
    s.handle_addresses_resolved(h.now(), three_edges());
    CHECK(h.drain().empty());
  }
  SECTION("while dialing") {
    s.handle_start(h.now());
    s.handle_addresses_resolved(h.now(), three_edges());
    h.drain();
    s.handle_shutdown(h.now());
    CHECK(h.drain() == Lines{"StopAcceptingStreams", "CloseLeg leg=0 (shutting down)", "Exit 0 (none)"});
  }
}

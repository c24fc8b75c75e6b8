// Heartbeats with a deadline, and the graceful stop.

#include "supervisor_harness.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace warren::core::supervisor;
using namespace warren::core::supervisor::test;
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

  SECTION("an idle leg closes as soon as its edge acknowledges, and the last one exits 0") {
    s.handle_unregister_acked(h.now(), 0, 0);
    CHECK(h.drain() == Lines{"CloseLeg leg=0 (shutting down)"});
    s.handle_unregister_acked(h.now(), 1, 0);
    CHECK(h.drain() == Lines{"CloseLeg leg=1 (shutting down)", "Exit 0 (none)"});
  }
  SECTION("a leg waits for every stream its edge opened, even one that arrives after the ack") {
    s.handle_stream_opened(h.now(), 0);
    s.handle_unregister_acked(h.now(), 0, 2);  // one more is on its way
    s.handle_unregister_acked(h.now(), 1, 0);
    CHECK(h.drain() == Lines{"CloseLeg leg=1 (shutting down)"});
    s.handle_stream_closed(h.now(), 0);
    CHECK(h.drain().empty());
    s.handle_stream_opened(h.now(), 0);
    CHECK(h.drain().empty());
    s.handle_stream_closed(h.now(), 0);
    CHECK(h.drain() == Lines{"CloseLeg leg=0 (shutting down)", "Exit 0 (none)"});
  }
  SECTION("the grace period ends the wait and says how many streams it cut") {
    s.handle_stream_opened(h.now(), 0);
    s.handle_stream_opened(h.now(), 1);
    s.handle_unregister_acked(h.now(), 0, 1);
    Lines seen;
    for (int i = 0; i < 30; ++i) {
      auto lines = h.advance(1s);
      seen.insert(seen.end(), lines.begin(), lines.end());
      for (unsigned leg : {0u, 1u})  // the edge keeps answering
        for (std::uint64_t seq = 1; seq <= 100; ++seq) s.handle_heartbeat_ack(h.now(), leg, seq);
    }
    REQUIRE_FALSE(seen.empty());
    CHECK(seen.back() == "Exit 0 (none) grace expired cut=2");
  }
  SECTION("losing every connection leaves nothing to drain") {
    s.handle_connection_lost(h.now(), 0, errc::peer_closed);
    CHECK(h.drain().empty());
    s.handle_connection_lost(h.now(), 1, errc::peer_closed);
    CHECK(h.drain() == Lines{"Exit 0 (none)"});
  }
  SECTION("losing a leg with open streams mid-drain is not a clean exit") {
    s.handle_stream_opened(h.now(), 1);
    s.handle_connection_lost(h.now(), 1, errc::peer_closed);
    s.handle_unregister_acked(h.now(), 0, 0);
    CHECK(h.drain() == Lines{"CloseLeg leg=0 (shutting down)", "Exit 1 (peer closed the connection) cut=1"});
  }
  SECTION("a second shutdown stops at once") {
    s.handle_stream_opened(h.now(), 0);
    s.handle_shutdown(h.now());
    CHECK(h.drain() == Lines{"CloseLeg leg=0 (shutting down)", "CloseLeg leg=1 (shutting down)", "Exit 0 (none) cut=1"});
  }
}

TEST_CASE("heartbeats go on while a leg drains, and a silent edge ends the drain as a cut", "[supervisor]") {
  SupervisorConfig config;  // heartbeats every 500 ms, dead after 8 s
  config.ha_connections = 1;
  Harness h(config);
  auto& s = h.supervisor;
  h.bring_up_leg0();
  s.handle_stream_opened(h.now(), 0);
  s.handle_shutdown(h.now());
  CHECK(h.drain() == Lines{"StopAcceptingStreams", "Unregister leg=0 grace=30s"});
  auto lines = h.advance(600ms);
  CHECK(lines == Lines{"SendHeartbeat leg=0 seq=1"});
  s.handle_heartbeat_ack(h.now(), 0, 1);
  lines = h.advance(9s);  // the edge goes silent
  REQUIRE_FALSE(lines.empty());
  CHECK(lines[lines.size() - 2] == "CloseLeg leg=0 (heartbeat timeout)");
  CHECK(lines.back() == "Exit 1 (heartbeat timeout) cut=1");
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

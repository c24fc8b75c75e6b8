// The edge's per-leg engine in virtual time: registration deadline,
// heartbeat deadline, drain (no eviction, no heartbeat requirement for old
// connectors, the grace period as the bound) and the UnregisterAck count.

#include "core/edge/edge_leg_engine.hpp"
#include "core/protocol/messages.hpp"

#include <warren/sdk/testing.hpp>

#include <catch2/catch.hpp>

using namespace warren;
using namespace warren::core;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  sdk::testing::ManualClock clock;
  EdgeLegTimings timings{.handshake_timeout = 5s, .heartbeat_interval = 200ms};
  EdgeLegEngine engine{timings, clock.now()};

  /// Moves the clock to each due timeout up to `d` from now, like the shell.
  std::vector<EdgeLegAction> advance(sdk::Duration d) {
    auto until = clock.now() + d;
    std::vector<EdgeLegAction> out;
    while (auto next = engine.next_timeout()) {
      if (*next > until) break;
      clock.advance(*next - clock.now());
      engine.handle_timeout(clock.now());
      while (auto a = engine.poll_action()) out.push_back(*a);
    }
    clock.advance(until - clock.now());
    return out;
  }
  std::vector<EdgeLegAction> actions() {
    std::vector<EdgeLegAction> out;
    while (auto a = engine.poll_action()) out.push_back(*a);
    return out;
  }
};

sdk::errc ended_with(const std::vector<EdgeLegAction>& actions) {
  REQUIRE(actions.size() == 1);
  REQUIRE(std::holds_alternative<EndLeg>(actions[0]));
  return std::get<EndLeg>(actions[0]).reason;
}

}  // namespace

TEST_CASE("a connection that does not register in time is closed") {
  Fixture f;
  CHECK(f.advance(4999ms).empty());
  CHECK(ended_with(f.advance(1ms)) == sdk::errc::handshake_timeout);
  CHECK(f.engine.phase() == EdgeLegPhase::ended);
  CHECK_FALSE(f.engine.next_timeout());
}

TEST_CASE("a registered leg lives while heartbeats come and dies 8 s after the last") {
  Fixture f;
  f.engine.handle_registered(f.clock.now(), protocol::kProtocolVersion);
  CHECK(f.engine.accepts_streams());
  for (int i = 0; i < 100; ++i) {
    CHECK(f.advance(200ms).empty());
    f.engine.handle_heartbeat(f.clock.now());
  }
  CHECK(f.advance(7999ms).empty());  // max(8 s, 16 x 200 ms)
  CHECK(ended_with(f.advance(1ms)) == sdk::errc::heartbeat_timeout);
}

TEST_CASE("a draining leg takes no streams and lives until its grace period, not the heartbeat deadline") {
  Fixture f;
  f.engine.handle_registered(f.clock.now(), protocol::kOldestProtocolVersion);  // a connector of protocol 1
  f.engine.handle_unregister(f.clock.now(), 20s);
  CHECK_FALSE(f.engine.accepts_streams());
  CHECK(f.actions().empty());  // protocol 1 knows no UnregisterAck
  // An old connector stops heartbeating once it unregistered: no 8 s cut.
  CHECK(f.advance(21999ms).empty());
  auto end = f.advance(1ms);  // grace 20 s + slack 2 s
  CHECK(ended_with(end) == sdk::errc::shutting_down);
}

TEST_CASE("a protocol 2 leg is acked at once and still held to heartbeats while draining") {
  Fixture f;
  f.engine.handle_registered(f.clock.now(), protocol::kProtocolVersion);
  for (int i = 0; i < 3; ++i) {
    f.engine.handle_stream_open_started();
    f.engine.handle_stream_open_finished(true);
    f.engine.handle_stream_closed();
  }
  f.engine.handle_unregister(f.clock.now(), 30s);
  auto acked = f.actions();
  REQUIRE(acked.size() == 1);
  CHECK(std::get<SendUnregisterAck>(acked[0]).streams_opened == 3);
  SECTION("beats keep it until the grace period ends") {
    for (int i = 0; i < 159; ++i) {
      CHECK(f.advance(200ms).empty());
      f.engine.handle_heartbeat(f.clock.now());
    }
    CHECK(ended_with(f.advance(2300ms)) == sdk::errc::shutting_down);
  }
  SECTION("a connector that dies mid-drain is still noticed") {
    CHECK(ended_with(f.advance(8s)) == sdk::errc::heartbeat_timeout);
  }
  SECTION("a second Unregister changes nothing") {
    f.engine.handle_unregister(f.clock.now(), 1h);
    CHECK(f.actions().empty());
  }
}

TEST_CASE("the ack waits for stream opens under way and open streams, so nothing in flight is cut") {
  Fixture f;
  f.engine.handle_registered(f.clock.now(), protocol::kProtocolVersion);
  f.engine.handle_stream_open_started();
  f.engine.handle_stream_open_started();
  f.engine.handle_unregister(f.clock.now(), 30s);
  CHECK(f.actions().empty());
  f.engine.handle_stream_open_finished(true);
  CHECK(f.actions().empty());
  f.engine.handle_stream_open_finished(false);  // never reached the connector
  CHECK(f.actions().empty());                   // the first one is still open at the edge
  f.clock.advance(5s);
  f.engine.handle_heartbeat(f.clock.now());
  f.engine.handle_stream_closed();
  auto acked = f.actions();
  REQUIRE(acked.size() == 1);
  CHECK(std::get<SendUnregisterAck>(acked[0]).streams_opened == 1);
}

TEST_CASE("a refusal lingers briefly, then the connection closes") {
  Fixture f;
  f.engine.handle_refused(f.clock.now());
  CHECK(f.advance(1999ms).empty());
  CHECK(ended_with(f.advance(1ms)) == sdk::errc::shutting_down);
}

TEST_CASE("a grace period beyond the cap is held to the cap") {
  Fixture f;
  f.engine.handle_registered(f.clock.now(), protocol::kOldestProtocolVersion);
  f.engine.handle_unregister(f.clock.now(), std::chrono::hours(24 * 40));
  CHECK(f.advance(1h).empty());
  CHECK(ended_with(f.advance(2s)) == sdk::errc::shutting_down);
}

// A reload's settings (SIGHUP on the connector): new policies apply at the
// next attempt, ha_connections lowered lets extra legs drain and go, raised
// starts new legs; nothing else closes a connection.

#include "supervisor_harness.hpp"

#include <catch2/catch.hpp>

using namespace warren::core::supervisor;
using namespace warren::core::supervisor::test;
using warren::sdk::errc;

namespace {

/// Two legs up (leg 0 on 10.0.0.1, leg 1 on 10.0.0.2), actions drained.
void bring_up_two(Harness& h) {
  h.bring_up_leg0();
  h.advance(1s);
  h.supervisor.handle_dial_succeeded(h.now(), 1);
  h.supervisor.handle_registered(h.now(), 1, {});
  h.drain();
}

SupervisorConfig with_legs(SupervisorConfig c, unsigned legs) {
  c.ha_connections = legs;
  return c;
}

}  // namespace

TEST_CASE("reload: unchanged settings close nothing and send nothing", "[supervisor][reload]") {
  Harness h(with_legs(quiet(), 2));
  bring_up_two(h);
  h.supervisor.handle_settings(h.now(), h.config, h.backoff, &h.address, &h.fallback, true);
  CHECK(h.drain().empty());
  CHECK(h.supervisor.legs()[0].phase == LegPhase::registered);
  CHECK(h.supervisor.legs()[1].phase == LegPhase::registered);
}

TEST_CASE("reload: a new backoff policy sets the next retry delay, not the live legs", "[supervisor][reload]") {
  Harness h(with_legs(quiet(), 2));
  bring_up_two(h);
  FixedBackoff slower(7s);
  h.supervisor.handle_settings(h.now(), h.config, slower, &h.address, &h.fallback, false);
  CHECK(h.drain().empty());
  h.supervisor.handle_connection_lost(h.now(), 1, errc::peer_closed);
  CHECK(h.drain() == Lines{"RetryScheduled leg=1 in 7s (peer closed the connection)"});
}

TEST_CASE("reload: a new discovery is asked before the next attempt", "[supervisor][reload]") {
  SupervisorConfig config = with_legs(quiet(), 1);
  config.address_refresh = std::chrono::hours(1);
  Harness h(config);
  h.bring_up_leg0();
  h.supervisor.handle_settings(h.now(), h.config, h.backoff, &h.address, &h.fallback, true);
  CHECK(h.drain().empty());  // the registered leg keeps its edge
  h.supervisor.handle_connection_lost(h.now(), 0, errc::peer_closed);
  h.drain();
  CHECK(h.advance(1s) == Lines{"Resolve"});
}

TEST_CASE("reload: ha_connections lowered unregisters the extra leg, which drains and is not retried",
          "[supervisor][reload]") {
  SupervisorConfig config = with_legs(quiet(), 2);
  config.grace_period = 30s;
  Harness h(config);
  auto& s = h.supervisor;
  bring_up_two(h);
  s.handle_stream_opened(h.now(), 1);
  s.handle_settings(h.now(), with_legs(config, 1), h.backoff, &h.address, &h.fallback, false);
  CHECK(h.drain() == Lines{"Unregister leg=1 grace=30s"});
  CHECK(s.wanted_legs() == 1);
  s.handle_unregister_acked(h.now(), 1, 1);
  CHECK(h.drain().empty());  // its stream still runs
  s.handle_stream_closed(h.now(), 1);
  CHECK(h.drain() == Lines{"CloseLeg leg=1 (shutting down)"});
  CHECK(s.legs()[1].phase == LegPhase::closed);
  CHECK(h.advance(1min).empty());  // no retry, leg 0 untouched
  CHECK(s.legs()[0].phase == LegPhase::registered);

  SECTION("a later shutdown exits 0 with only leg 0 to drain") {
    s.handle_shutdown(h.now());
    CHECK(h.drain() == Lines{"StopAcceptingStreams", "Unregister leg=0 grace=30s"});
    s.handle_unregister_acked(h.now(), 0, 0);
    CHECK(h.drain() == Lines{"CloseLeg leg=0 (shutting down)", "Exit 0 (none)"});
  }
  SECTION("raised again, the leg starts again a stagger later and registers replacing its old one") {
    s.handle_settings(h.now(), with_legs(config, 2), h.backoff, &h.address, &h.fallback, false);
    CHECK(h.drain().empty());
    CHECK(h.advance(1s) == Lines{"Dial leg=1 10.0.0.2:7844 transport=0"});
    s.handle_dial_succeeded(h.now(), 1);
    CHECK(h.drain() == Lines{"Register leg=1 replace=yes"});
  }
}

TEST_CASE("reload: a leg let go whose streams outlast the grace period is closed then", "[supervisor][reload]") {
  SupervisorConfig config = with_legs(quiet(), 2);
  config.grace_period = 10s;
  Harness h(config);
  auto& s = h.supervisor;
  bring_up_two(h);
  s.handle_stream_opened(h.now(), 1);
  s.handle_settings(h.now(), with_legs(config, 1), h.backoff, &h.address, &h.fallback, false);
  h.drain();
  s.handle_unregister_acked(h.now(), 1, 1);
  CHECK(h.advance(9s).empty());
  CHECK(h.advance(1s) == Lines{"CloseLeg leg=1 (shutting down)"});
  CHECK(h.advance(1min).empty());
  // The cut was the reload's, not a shutdown's: a clean stop still exits 0.
  s.handle_shutdown(h.now());
  h.drain();
  s.handle_unregister_acked(h.now(), 0, 0);
  CHECK(h.drain() == Lines{"CloseLeg leg=0 (shutting down)", "Exit 0 (none)"});
}

TEST_CASE("reload: raised while the extra leg still drains, it starts again once it closed", "[supervisor][reload]") {
  SupervisorConfig config = with_legs(quiet(), 2);
  Harness h(config);
  auto& s = h.supervisor;
  bring_up_two(h);
  s.handle_stream_opened(h.now(), 1);
  s.handle_settings(h.now(), with_legs(config, 1), h.backoff, &h.address, &h.fallback, false);
  CHECK(h.drain() == Lines{"Unregister leg=1 grace=30s"});
  s.handle_settings(h.now(), with_legs(config, 2), h.backoff, &h.address, &h.fallback, false);
  CHECK(h.drain().empty());  // the drain goes on
  s.handle_unregister_acked(h.now(), 1, 1);
  s.handle_stream_closed(h.now(), 1);
  CHECK(h.drain() == Lines{"CloseLeg leg=1 (shutting down)"});
  CHECK(h.advance(1s) == Lines{"Dial leg=1 10.0.0.2:7844 transport=0"});
}

TEST_CASE("reload: ha_connections raised starts the new legs a stagger apart", "[supervisor][reload]") {
  SupervisorConfig config = with_legs(quiet(), 1);
  Harness h(config);
  auto& s = h.supervisor;
  h.bring_up_leg0();
  s.handle_settings(h.now(), with_legs(config, 3), h.backoff, &h.address, &h.fallback, false);
  CHECK(h.drain().empty());
  CHECK(s.legs().size() == 3);
  CHECK(h.advance(1s) == Lines{"Dial leg=1 10.0.0.2:7844 transport=0"});
  CHECK(h.advance(1s) == Lines{"Dial leg=2 10.0.0.3:7844 transport=0"});
}

TEST_CASE("reload: lowering closes a leg that is only dialing or waiting", "[supervisor][reload]") {
  SupervisorConfig config = with_legs(quiet(), 3);
  Harness h(config);
  auto& s = h.supervisor;
  h.bring_up_leg0();
  h.advance(1s);  // leg 1 dialing, leg 2 scheduled
  h.drain();
  s.handle_settings(h.now(), with_legs(config, 1), h.backoff, &h.address, &h.fallback, false);
  CHECK(h.drain() == Lines{"CloseLeg leg=1 (shutting down)"});
  CHECK(h.advance(1min).empty());
  s.handle_dial_succeeded(h.now(), 1);  // late news of the abandoned dial
  CHECK(h.drain().empty());
}

TEST_CASE("reload: settings the supervisor cannot run are refused and change nothing", "[supervisor][reload]") {
  Harness h(with_legs(quiet(), 2));
  auto& s = h.supervisor;
  bring_up_two(h);
  SupervisorConfig other_transports = h.config;
  other_transports.transport_count = 2;
  CHECK_THROWS_AS(s.handle_settings(h.now(), other_transports, h.backoff, &h.address, &h.fallback, false),
                  std::invalid_argument);
  CHECK_THROWS_AS(s.handle_settings(h.now(), with_legs(h.config, 0), h.backoff, &h.address, &h.fallback, false),
                  std::invalid_argument);
  CHECK_THROWS_AS(s.handle_settings(h.now(), h.config, h.backoff, nullptr, &h.fallback, false), std::invalid_argument);
  CHECK(h.drain().empty());
  CHECK(s.wanted_legs() == 2);
}

// What a lost or refused leg does: fatal errors end the run, everything
// else backs off and reconnects with replace_existing, the edge's
// retry-after is a floor, and a policy that gives up ends the run.

#include "supervisor_harness.hpp"

#include <catch2/catch.hpp>

using namespace warren::core::supervisor;
using namespace warren::core::supervisor::test;
using warren::sdk::errc;

TEST_CASE("a fatal rejection closes every leg and exits 3 at once", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.ha_connections = 2;
  Harness h(config);
  auto& s = h.supervisor;
  h.bring_up_leg0();
  CHECK(h.advance(1s) == Lines{"Dial leg=1 10.0.0.2:7844 transport=0"});
  s.handle_dial_succeeded(h.now(), 1);
  CHECK(h.drain() == Lines{"Register leg=1 replace=no"});
  s.handle_rejected(h.now(), 1, errc::auth_failed, true, 0s);
  CHECK(h.drain() == Lines{"CloseLeg leg=1 (authentication failed)", "CloseLeg leg=0 (authentication failed)",
                           "Exit 3 (authentication failed)"});
  CHECK(s.finished());
  // Nothing moves the supervisor after Exit.
  s.handle_connection_lost(h.now(), 0, errc::peer_closed);
  s.handle_shutdown(h.now());
  CHECK(h.advance(1h).empty());
}

TEST_CASE("the fatal flag or a fatal code is enough", "[supervisor]") {
  Harness h;
  auto& s = h.supervisor;
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), three_edges());
  s.handle_dial_succeeded(h.now(), 0);
  h.drain();
  SECTION("a fatal flag on a retryable code") {
    s.handle_rejected(h.now(), 0, errc::rate_limited, true, 0s);
    CHECK(h.drain() == Lines{"CloseLeg leg=0 (rate limited)", "Exit 3 (rate limited)"});
  }
  SECTION("a fatal code without the flag") {
    s.handle_rejected(h.now(), 0, errc::tunnel_unknown, false, 0s);
    CHECK(h.drain() == Lines{"CloseLeg leg=0 (unknown tunnel)", "Exit 3 (unknown tunnel)"});
  }
  SECTION("the edge refusing our config is exit 2") {
    s.handle_rejected(h.now(), 0, errc::config_invalid, true, 0s);
    CHECK(h.drain() == Lines{"CloseLeg leg=0 (invalid configuration)", "Exit 2 (invalid configuration)"});
  }
}

TEST_CASE("a certificate mismatch on the very first dial exits 3 without retrying", "[supervisor]") {
  Harness h;
  auto& s = h.supervisor;
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), three_edges());
  h.drain();
  s.handle_dial_failed(h.now(), 0, errc::certificate_mismatch);
  CHECK(h.drain() == Lines{"Exit 3 (certificate does not match)"});
}

TEST_CASE("a lost leg reconnects after backoff with replace_existing", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.ha_connections = 1;
  Harness h(config);
  auto& s = h.supervisor;
  h.bring_up_leg0();
  s.handle_connection_lost(h.now(), 0, errc::idle_timeout);
  CHECK(h.drain() == Lines{"RetryScheduled leg=0 in 1s (idle timeout)"});
  CHECK(h.advance(1s) == Lines{"Dial leg=0 10.0.0.2:7844 transport=0"});
  s.handle_dial_succeeded(h.now(), 0);
  CHECK(h.drain() == Lines{"Register leg=0 replace=yes"});
}

TEST_CASE("after a registration timeout the next attempt replaces the edge's stale one", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.ha_connections = 1;
  Harness h(config);
  auto& s = h.supervisor;
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), three_edges());
  s.handle_dial_succeeded(h.now(), 0);
  h.drain();
  CHECK(h.advance(15s) ==
        Lines{"CloseLeg leg=0 (handshake timed out)", "RetryScheduled leg=0 in 1s (handshake timed out)"});
  CHECK(h.advance(1s) == Lines{"Dial leg=0 10.0.0.2:7844 transport=0"});
  s.handle_dial_succeeded(h.now(), 0);
  CHECK(h.drain() == Lines{"Register leg=0 replace=yes"});
}

TEST_CASE("the edge's retry-after is a lower bound on the delay, capped", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.ha_connections = 1;
  config.max_retry_after = 1min;
  Harness h(config);
  auto& s = h.supervisor;
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), three_edges());
  s.handle_dial_succeeded(h.now(), 0);
  h.drain();
  s.handle_rejected(h.now(), 0, errc::rate_limited, false, 5s);
  // rate_limited keeps the address: the same edge asked us to come back.
  CHECK(h.drain() == Lines{"CloseLeg leg=0 (rate limited)", "RetryScheduled leg=0 in 5s (rate limited)"});
  CHECK(h.advance(4999ms).empty());
  CHECK(h.advance(1ms) == Lines{"Dial leg=0 10.0.0.1:7844 transport=0"});
  s.handle_dial_succeeded(h.now(), 0);
  h.drain();
  s.handle_rejected(h.now(), 0, errc::rate_limited, false, 24h);
  CHECK(h.drain() == Lines{"CloseLeg leg=0 (rate limited)", "RetryScheduled leg=0 in 1m (rate limited)"});
  s.handle_dial_succeeded(h.now(), 0);  // stale: the leg is waiting, not dialing
  CHECK(h.drain().empty());
}

TEST_CASE("a slot held by a live connection is retried at the edge's pace, without backoff growth", "[supervisor]") {
  // A rolling restart: the old connector still holds leg 0 until it
  // unregisters. Its replacement must not back off towards max meanwhile.
  SupervisorConfig config = quiet();
  config.ha_connections = 1;
  Harness h(config);
  auto& s = h.supervisor;
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), three_edges());
  for (int refusal = 0; refusal < 12; ++refusal) {
    s.handle_dial_succeeded(h.now(), 0);
    h.drain();
    s.handle_rejected(h.now(), 0, errc::duplicate_registration, false, 1s);
    auto lines = h.drain();
    REQUIRE(lines.size() == 2);
    CHECK(lines[1].rfind("RetryScheduled leg=0 in 1", 0) == 0);  // 1 s to 1.25 s, never more
    auto next = s.next_timeout();
    REQUIRE(next);
    CHECK(*next - h.now() >= 1s);
    CHECK(*next - h.now() <= 1250ms);
    // The same edge: its answer was about the slot, not about the address.
    CHECK(h.advance(*next - h.now()) == Lines{"Dial leg=0 10.0.0.1:7844 transport=0"});
  }
}

TEST_CASE("a backoff policy that gives up ends the run with exit 1", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.ha_connections = 2;
  Harness h(config, 1s, 2);
  auto& s = h.supervisor;
  h.bring_up_leg0();
  CHECK(h.advance(1s) == Lines{"Dial leg=1 10.0.0.2:7844 transport=0"});
  s.handle_dial_failed(h.now(), 1, errc::dial_failed);
  CHECK(h.drain() == Lines{"RetryScheduled leg=1 in 1s (dial failed)"});
  CHECK(h.advance(1s) == Lines{"Dial leg=1 10.0.0.3:7844 transport=0"});
  s.handle_dial_failed(h.now(), 1, errc::dial_failed);
  CHECK(h.drain() == Lines{"RetryScheduled leg=1 in 1s (dial failed)"});
  // Both free addresses failed: discovery is asked before the older one is retried.
  CHECK(h.advance(1s) == Lines{"Resolve"});
  s.handle_addresses_resolved(h.now(), three_edges());
  CHECK(h.drain() == Lines{"Dial leg=1 10.0.0.2:7844 transport=0"});
  s.handle_dial_failed(h.now(), 1, errc::dial_failed);
  CHECK(h.drain() == Lines{"CloseLeg leg=0 (dial failed)", "Exit 1 (dial failed)"});
}

TEST_CASE("no_reconnect: losing a live leg closes the rest and exits 1", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.no_reconnect = true;
  Harness h(config);
  auto& s = h.supervisor;
  h.bring_up_leg0();
  CHECK(h.advance(1s) == Lines{"Dial leg=1 10.0.0.2:7844 transport=0"});
  s.handle_connection_lost(h.now(), 0, errc::peer_closed);
  CHECK(h.drain() == Lines{"CloseLeg leg=1 (peer closed the connection)", "Exit 1 (peer closed the connection)"});
}

TEST_CASE("after enough dial failures a leg falls back to the next transport, and wraps", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.ha_connections = 1;
  config.transport_count = 2;
  Harness h(config, 1s, {}, {}, no_probes(2));
  auto& s = h.supervisor;
  // One edge: after each failure its only address is used up, so the
  // supervisor asks discovery again (and gets the same edge) before it dials.
  auto redial = [&] {
    Lines lines = h.advance(1s);
    if (lines == Lines{"Resolve"}) {
      s.handle_addresses_resolved(h.now(), {edge("10.0.0.1")});
      lines = h.drain();
    }
    return lines;
  };
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), {edge("10.0.0.1")});
  CHECK(h.drain() == Lines{"Resolve", "Dial leg=0 10.0.0.1:7844 transport=0"});
  s.handle_dial_failed(h.now(), 0, errc::dial_failed);  // (quic_broken moves at once: see probe_return_test)
  h.drain();
  CHECK(redial() == Lines{"Dial leg=0 10.0.0.1:7844 transport=0"});
  s.handle_dial_failed(h.now(), 0, errc::dial_failed);
  h.drain();
  CHECK(redial() == Lines{"Dial leg=0 10.0.0.1:7844 transport=1"});

  SECTION("a success resets the count; session errors do not count") {
    s.handle_dial_succeeded(h.now(), 0);
    s.handle_registered(h.now(), 0, {});
    s.handle_connection_lost(h.now(), 0, errc::peer_closed);
    h.drain();
    CHECK(redial() == Lines{"Dial leg=0 10.0.0.1:7844 transport=1"});
    s.handle_dial_failed(h.now(), 0, errc::tls_failed);
    h.drain();
    CHECK(redial() == Lines{"Dial leg=0 10.0.0.1:7844 transport=1"});
  }
  SECTION("failures on the last transport wrap to the first") {
    for (int i = 0; i < 2; ++i) {
      s.handle_dial_failed(h.now(), 0, errc::dial_failed);
      h.drain();
      redial();
    }
    CHECK(h.actions.size() > 0);
    CHECK(to_string(h.actions.back()) == "Dial leg=0 10.0.0.1:7844 transport=0");
  }
}

TEST_CASE("a leg lost to a stateless reset dials the same edge again within 250 ms, without backoff", "[supervisor]") {
  SupervisorConfig config = quiet();
  config.ha_connections = 1;
  Harness h(config);
  auto& s = h.supervisor;
  h.bring_up_leg0();
  s.handle_connection_lost(h.now(), 0, errc::stateless_reset);
  auto lines = h.drain();
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::StartsWith("RetryScheduled leg=0 in ") && Catch::EndsWith("(peer lost the connection's state (stateless reset))"));
  CHECK(h.advance(250ms) == Lines{"Dial leg=0 10.0.0.1:7844 transport=0"});
  // The edge is up; a dial that fails all the same backs off as usual.
  s.handle_dial_failed(h.now(), 0, errc::dial_failed);
  CHECK(h.drain() == Lines{"RetryScheduled leg=0 in 1s (dial failed)"});
}

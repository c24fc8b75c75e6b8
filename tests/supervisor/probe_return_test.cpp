// The return to the preferred transport, make-before-break, in virtual
// time: a leg registered on its fallback transport probes transport 0 beside
// it, unregisters the fallback connection once the probe connected, registers
// the probe when the edge acknowledged, and lets the old connection drain.

#include "supervisor_harness.hpp"

#include <catch2/catch.hpp>

using namespace warren::core::supervisor;
using namespace warren::core::supervisor::test;
using warren::sdk::errc;

namespace {

constexpr auto kProbe = std::chrono::seconds(60);

/// One leg, two transports; the fallback plugin moves on at once on
/// quic_broken and probes every 60 s ±20 %.
Harness on_fallback() {
  SupervisorConfig c = quiet();
  c.ha_connections = 1;
  c.transport_count = 2;
  return Harness(c, 1s, {}, {}, {.probe_interval = kProbe, .max_failures = 3});
}

/// Brings leg 0 up on transport 1 (QUIC broken at the first dial); returns
/// the address it registered at.
std::string register_on_fallback(Harness& h) {
  auto& s = h.supervisor;
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), three_edges());
  REQUIRE(h.drain() == Lines{"Resolve", "Dial leg=0 10.0.0.1:7844 transport=0"});
  s.handle_dial_failed(h.now(), 0, errc::quic_broken);
  h.drain();
  auto lines = h.advance(1s);
  REQUIRE(lines.size() == 1);
  REQUIRE(lines[0].find("transport=1") != std::string::npos);
  s.handle_dial_succeeded(h.now(), 0);
  REQUIRE(h.drain() == Lines{"Register leg=0 replace=no"});
  s.handle_registered(h.now(), 0, {});
  REQUIRE(h.drain().empty());
  REQUIRE(s.legs()[0].fallback.current == 1);
  return s.legs()[0].edge->to_string();
}

/// Moves the clock to the probe and returns its actions; checks the jitter bounds.
Lines until_probe(Harness& h) {
  auto due = h.supervisor.next_timeout();
  REQUIRE(due);
  CHECK(*due >= h.now() + kProbe * 8 / 10);
  CHECK(*due <= h.now() + kProbe * 12 / 10);
  return h.advance(*due - h.now());
}

std::vector<std::string> history(const Harness& h) {
  std::vector<std::string> out;
  for (const auto& e : h.supervisor.leg_history(0).entries()) out.push_back(to_string(e));
  return out;
}

bool has(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

}  // namespace

TEST_CASE("a leg on its fallback transport probes the preferred one and returns make-before-break", "[probe]") {
  Harness h = on_fallback();
  auto& s = h.supervisor;
  const std::string at = register_on_fallback(h);
  s.handle_stream_opened(h.now(), 0);  // a stream on the fallback connection, running across the return

  CHECK(until_probe(h) == Lines{"Probe leg=0 " + at + " transport=0"});
  CHECK(s.legs()[0].phase == LegPhase::registered);  // the fallback connection carries on meanwhile
  s.handle_probe_dial_succeeded(h.now(), 0);
  CHECK(h.drain() == Lines{"Unregister leg=0 grace=1h", "SendHeartbeat leg=0 seq=1"});
  s.handle_stream_opened(h.now(), 0);  // opened by the edge before it read the Unregister
  // The fence's ack: the edge read the Unregister and freed the index. Its
  // UnregisterAck comes only when both streams have finished.
  s.handle_heartbeat_ack(h.now(), 0, 1);
  CHECK(h.drain() == Lines{"Retire leg=0 transport=1 -> transport=0", "Register leg=0 replace=no"});
  CHECK(s.legs()[0].fallback.current == 0);
  s.handle_registered(h.now(), 0, {});
  CHECK(h.drain().empty());
  // Both old streams keep running on the retiring connection; new ones arrive on the new.
  s.handle_stream_opened(h.now(), 0);
  s.handle_retired_stream_closed(h.now(), 0);
  s.handle_retired_stream_closed(h.now(), 0);
  CHECK(h.drain().empty());  // the edge has not said it opens no more
  s.handle_retired_unregister_acked(h.now(), 0, 2);
  CHECK(h.drain() == Lines{"CloseLeg leg=0 retiring (shutting down)"});
  CHECK(s.legs()[0].streams_open == 1);

  auto events = history(h);
  CHECK(has(events, "probing " + at + " transport=0"));
  CHECK(has(events, "returned_transport " + at + " transport=1 -> transport=0"));
  CHECK(has(events, "retired " + at + " transport=1"));
  CHECK(s.leg_history(0).totals().transport_moves == 2);  // away and back, once each
  // On the preferred transport there is nothing to probe for.
  CHECK(*s.next_timeout() >= h.now() + 1h);
}

TEST_CASE("a failed probe leaves the fallback connection alone and schedules the next one", "[probe]") {
  Harness h = on_fallback();
  auto& s = h.supervisor;
  const std::string at = register_on_fallback(h);
  CHECK(until_probe(h) == Lines{"Probe leg=0 " + at + " transport=0"});
  s.handle_probe_failed(h.now(), 0, errc::quic_broken);
  CHECK(h.drain().empty());
  CHECK(s.legs()[0].phase == LegPhase::registered);
  CHECK(s.legs()[0].fallback.current == 1);
  // The next probe is jittered again; this one hangs and times out at connect_timeout.
  CHECK(until_probe(h) == Lines{"Probe leg=0 " + at + " transport=0"});
  CHECK(h.advance(h.config.connect_timeout) == Lines{"CloseLeg leg=0 probe (handshake timed out)"});
  CHECK(s.legs()[0].phase == LegPhase::registered);
  auto events = history(h);
  CHECK(has(events, "probe_failed " + at + " transport=0 quic_broken"));
  CHECK(has(events, "probe_failed " + at + " transport=0 handshake_timeout"));
  CHECK(s.leg_history(0).totals().transport_moves == 1);
  CHECK(until_probe(h).size() == 1);
}

TEST_CASE("a probe_interval of zero never probes", "[probe]") {
  SupervisorConfig c = quiet();
  c.ha_connections = 1;
  c.transport_count = 2;
  Harness h(c, 1s, {}, {}, no_probes(3));
  register_on_fallback(h);
  CHECK(*h.supervisor.next_timeout() >= h.now() + 1h);
  for (const auto& line : h.advance(2h)) CHECK(line.rfind("SendHeartbeat leg=0 seq=", 0) == 0);  // no probe
}

TEST_CASE("the leg lost during a probe takes the probe with it", "[probe]") {
  Harness h = on_fallback();
  auto& s = h.supervisor;
  const std::string at = register_on_fallback(h);
  until_probe(h);
  s.handle_connection_lost(h.now(), 0, errc::peer_closed);
  CHECK(h.drain() == Lines{"CloseLeg leg=0 probe (peer closed the connection)",
                           "RetryScheduled leg=0 in 1s (peer closed the connection)"});
  s.handle_probe_dial_succeeded(h.now(), 0);  // late: ignored
  CHECK(h.drain().empty());
}

TEST_CASE("a probe lost after the fallback connection unregistered: the old one drains and the leg reconnects",
          "[probe]") {
  Harness h = on_fallback();
  auto& s = h.supervisor;
  const std::string at = register_on_fallback(h);
  s.handle_stream_opened(h.now(), 0);
  until_probe(h);
  s.handle_probe_dial_succeeded(h.now(), 0);
  CHECK(h.drain() == Lines{"Unregister leg=0 grace=1h", "SendHeartbeat leg=0 seq=1"});
  s.handle_probe_failed(h.now(), 0, errc::peer_closed);
  CHECK(h.drain() ==
        Lines{"Retire leg=0 transport=1 (probe failed)", "RetryScheduled leg=0 in 1s (peer closed the connection)"});
  s.handle_retired_unregister_acked(h.now(), 0, 1);
  CHECK(h.drain().empty());  // its stream still runs
  s.handle_retired_stream_closed(h.now(), 0);
  CHECK(h.drain() == Lines{"CloseLeg leg=0 retiring (shutting down)"});
}

TEST_CASE("shutdown during a probe closes the probe and drains the leg", "[probe]") {
  SECTION("while the probe dials") {
    Harness h = on_fallback();
    auto& s = h.supervisor;
    register_on_fallback(h);
    until_probe(h);
    s.handle_shutdown(h.now());
    CHECK(h.drain() ==
          Lines{"StopAcceptingStreams", "CloseLeg leg=0 probe (shutting down)", "Unregister leg=0 grace=30s"});
    s.handle_unregister_acked(h.now(), 0, 0);
    CHECK(h.drain() == Lines{"CloseLeg leg=0 (shutting down)", "Exit 0 (none)"});
  }
  SECTION("after the fallback connection sent its Unregister: that one is the drain") {
    Harness h = on_fallback();
    auto& s = h.supervisor;
    register_on_fallback(h);
    until_probe(h);
    s.handle_probe_dial_succeeded(h.now(), 0);
    CHECK(h.drain() == Lines{"Unregister leg=0 grace=1h", "SendHeartbeat leg=0 seq=1"});
    s.handle_shutdown(h.now());
    CHECK(h.drain() == Lines{"StopAcceptingStreams", "CloseLeg leg=0 probe (shutting down)"});
    s.handle_unregister_acked(h.now(), 0, 0);
    CHECK(h.drain() == Lines{"CloseLeg leg=0 (shutting down)", "Exit 0 (none)"});
  }
  SECTION("while the old connection still drains after a return, the exit waits for it") {
    Harness h = on_fallback();
    auto& s = h.supervisor;
    register_on_fallback(h);
    s.handle_stream_opened(h.now(), 0);
    until_probe(h);
    s.handle_probe_dial_succeeded(h.now(), 0);
    s.handle_unregister_acked(h.now(), 0, 1);
    s.handle_registered(h.now(), 0, {});
    h.drain();
    s.handle_shutdown(h.now());
    CHECK(h.drain() == Lines{"StopAcceptingStreams", "Unregister leg=0 grace=30s"});
    s.handle_unregister_acked(h.now(), 0, 0);
    CHECK(h.drain() == Lines{"CloseLeg leg=0 (shutting down)"});
    s.handle_retired_stream_closed(h.now(), 0);
    CHECK(h.drain() == Lines{"CloseLeg leg=0 retiring (shutting down)", "Exit 0 (none)"});
  }
}

TEST_CASE("a retiring connection beats and is closed when its return drain ends", "[probe]") {
  SupervisorConfig c;  // heartbeats every 500 ms
  c.ha_connections = 1;
  c.transport_count = 2;
  c.return_drain = 2s;
  Harness h(c, 1s, {}, {}, {.probe_interval = kProbe, .max_failures = 3});
  auto& s = h.supervisor;
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), three_edges());
  s.handle_dial_failed(h.now(), 0, errc::quic_broken);
  h.advance(1s);
  s.handle_dial_succeeded(h.now(), 0);
  s.handle_registered(h.now(), 0, {});
  s.handle_stream_opened(h.now(), 0);
  h.drain();
  // Acknowledge every beat until the probe is due.
  for (int i = 0; i < 1000 && s.legs()[0].probe.phase == ProbePhase::none; ++i) {
    h.advance(500ms);
    s.handle_heartbeat_ack(h.now(), 0, s.legs()[0].last_sent);
  }
  REQUIRE(s.legs()[0].probe.phase == ProbePhase::dialing);
  s.handle_probe_dial_succeeded(h.now(), 0);
  s.handle_unregister_acked(h.now(), 0, 1);
  s.handle_registered(h.now(), 0, {});
  h.drain();
  auto lines = h.advance(600ms);
  CHECK(has(lines, "SendHeartbeat leg=0 retiring seq=" + std::to_string(s.legs()[0].retiring.last_sent)));
  lines = h.advance(1500ms);
  CHECK(has(lines, "CloseLeg leg=0 retiring (shutting down)"));
  CHECK_FALSE(s.legs()[0].retiring.active);
  CHECK(to_string(s.leg_history(0).entries().back()) ==
        "retired " + s.legs()[0].edge->to_string() + " transport=1 shutting_down");
}

TEST_CASE("later legs start on the transport leg 0 fell back to and probe their way back too", "[probe]") {
  SupervisorConfig c = quiet();
  c.ha_connections = 2;
  c.stagger = 0s;
  c.transport_count = 2;
  Harness h(c, 1s, {}, {}, {.probe_interval = kProbe, .max_failures = 3});
  auto& s = h.supervisor;
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), three_edges());
  REQUIRE(h.drain() == Lines{"Resolve", "Dial leg=0 10.0.0.1:7844 transport=0"});
  s.handle_dial_failed(h.now(), 0, errc::quic_broken);
  h.drain();
  h.advance(1s);
  s.handle_dial_succeeded(h.now(), 0);
  h.drain();
  s.handle_registered(h.now(), 0, {});
  auto lines = h.drain();
  REQUIRE(lines.size() == 1);
  // Leg 1 does not pay a handshake timeout of its own on the blocked transport.
  CHECK(lines[0].find("Dial leg=1 ") == 0);
  CHECK(lines[0].find("transport=1") != std::string::npos);
  s.handle_dial_succeeded(h.now(), 1);
  h.drain();
  s.handle_registered(h.now(), 1, {});
  h.drain();
  CHECK(s.legs()[1].next_probe.has_value());
}

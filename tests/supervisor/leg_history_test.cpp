// Each leg's short history: exact event sequences in virtual time (dial,
// register, loss with its error name, retry, a move to another address or
// transport, unregister), the bound on its length, and the totals that
// outlive it.

#include "supervisor_harness.hpp"

#include <catch2/catch.hpp>

using namespace warren::core::supervisor;
using namespace warren::core::supervisor::test;
using warren::sdk::errc;

namespace {

/// The leg's history as to_string lines, each prefixed with its time since `origin` in ms.
Lines history(const Supervisor& s, unsigned leg, warren::sdk::TimePoint origin) {
  Lines out;
  for (const auto& e : s.leg_history(leg).entries())
    out.push_back(std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(e.at - origin).count()) + "ms " +
                  to_string(e));
  return out;
}

const Dial* last_dial(const Harness& h) {
  for (auto it = h.actions.rbegin(); it != h.actions.rend(); ++it)
    if (auto* d = std::get_if<Dial>(&*it)) return d;
  return nullptr;
}

SupervisorConfig one_leg(std::size_t transports = 1) {
  SupervisorConfig c = quiet();
  c.ha_connections = 1;
  c.transport_count = transports;
  return c;
}

}  // namespace

TEST_CASE("a leg's history records dial, registration, loss with its error name, retry and the move", "[history]") {
  Harness h(one_leg());
  auto& s = h.supervisor;
  const auto t0 = h.now();
  h.bring_up_leg0();
  CHECK(history(s, 0, t0) == Lines{"0ms dialing 10.0.0.1:7844 transport=0", "0ms connected 10.0.0.1:7844 transport=0",
                                   "0ms registered 10.0.0.1:7844 transport=0"});
  REQUIRE(last_dial(h));
  CHECK_FALSE(last_dial(h)->moved);  // a first dial moves nothing

  h.advance(2s);
  s.handle_connection_lost(h.now(), 0, errc::peer_unreachable);
  CHECK(h.drain() == Lines{"RetryScheduled leg=0 in 1s (peer unreachable (ICMP))"});
  h.advance(1s);
  CHECK(history(s, 0, t0) == Lines{"0ms dialing 10.0.0.1:7844 transport=0", "0ms connected 10.0.0.1:7844 transport=0",
                                   "0ms registered 10.0.0.1:7844 transport=0",
                                   "2000ms lost 10.0.0.1:7844 transport=0 peer_unreachable",
                                   "2000ms retry_scheduled 10.0.0.1:7844 transport=0 in 1s peer_unreachable",
                                   "3000ms moved_address 10.0.0.1:7844 -> 10.0.0.2:7844 transport=0 peer_unreachable",
                                   "3000ms dialing 10.0.0.2:7844 transport=0"});
  // The Dial carries the move for the shell's one log line.
  const Dial* d = last_dial(h);
  REQUIRE(d);
  REQUIRE(d->moved);
  REQUIRE(d->moved->from_address);
  CHECK(d->moved->from_address->to_string() == "10.0.0.1:7844");
  CHECK_FALSE(d->moved->from_transport);
  CHECK(d->moved->reason == errc::peer_unreachable);

  const auto& totals = s.leg_history(0).totals();
  CHECK(totals.dials == 2);
  CHECK(totals.registrations == 1);
  CHECK(totals.address_moves == 1);
  CHECK(totals.transport_moves == 0);
  CHECK(totals.losses == std::map<std::string, std::uint64_t>{{"peer_unreachable", 1}});
  CHECK(totals.attempt_failures.empty());
}

TEST_CASE("a retry on the same address after a kept error records no move", "[history]") {
  Harness h(one_leg());
  auto& s = h.supervisor;
  const auto t0 = h.now();
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), three_edges());
  s.handle_dial_succeeded(h.now(), 0);
  h.drain();
  // ip-rotation keeps the address on rate_limited (cloudflared's rule).
  s.handle_rejected(h.now(), 0, errc::rate_limited, false, 0s);
  h.drain();
  h.advance(1s);
  CHECK(history(s, 0, t0) == Lines{"0ms dialing 10.0.0.1:7844 transport=0", "0ms connected 10.0.0.1:7844 transport=0",
                                   "0ms rejected 10.0.0.1:7844 transport=0 rate_limited",
                                   "0ms retry_scheduled 10.0.0.1:7844 transport=0 in 1s rate_limited",
                                   "1000ms dialing 10.0.0.1:7844 transport=0"});
  const Dial* d = last_dial(h);
  REQUIRE(d);
  CHECK_FALSE(d->moved);
  CHECK(s.leg_history(0).totals().address_moves == 0);
  CHECK(s.leg_history(0).totals().attempt_failures == std::map<std::string, std::uint64_t>{{"rate_limited", 1}});
}

TEST_CASE("dial failures move the leg to the next transport and say so", "[history]") {
  SupervisorConfig c = one_leg(2);
  Harness h(c, 1s, {}, {}, no_probes(1));  // the fallback plugin moves after one failed dial
  auto& s = h.supervisor;
  const auto t0 = h.now();
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), three_edges());
  h.drain();
  s.handle_dial_failed(h.now(), 0, errc::dial_failed);
  h.drain();
  h.advance(1s);
  CHECK(history(s, 0, t0) == Lines{"0ms dialing 10.0.0.1:7844 transport=0",
                                   "0ms dial_failed 10.0.0.1:7844 transport=0 dial_failed",
                                   "0ms retry_scheduled 10.0.0.1:7844 transport=0 in 1s dial_failed",
                                   "1000ms moved_address 10.0.0.1:7844 -> 10.0.0.2:7844 transport=1 dial_failed",
                                   "1000ms moved_transport 10.0.0.2:7844 transport=0 -> transport=1 dial_failed",
                                   "1000ms dialing 10.0.0.2:7844 transport=1"});
  const Dial* d = last_dial(h);
  REQUIRE(d);
  REQUIRE(d->moved);
  CHECK(d->moved->from_address);
  CHECK(d->moved->from_transport == std::optional<std::size_t>(0));
  CHECK(d->transport == 1);
  CHECK(s.leg_history(0).totals().transport_moves == 1);
}

TEST_CASE("timeouts are recorded with their error names", "[history]") {
  SupervisorConfig c = one_leg();
  c.heartbeat_interval = 500ms;
  c.heartbeat_timeout = 2s;
  c.connect_timeout = 3s;
  Harness h(c);
  auto& s = h.supervisor;
  const auto t0 = h.now();
  h.bring_up_leg0();
  h.advance(2500ms);  // no ack: heartbeat_timeout at 2 s
  h.advance(1s);      // the retry dials at 3 s; no answer: handshake_timeout at 6 s
  h.advance(3s);
  auto lines = history(s, 0, t0);
  REQUIRE(lines.size() >= 8);
  CHECK(lines[3] == "2000ms lost 10.0.0.1:7844 transport=0 heartbeat_timeout");
  CHECK(lines[7] == "6000ms dial_failed 10.0.0.2:7844 transport=0 handshake_timeout");
}

TEST_CASE("the history keeps the last 16 entries and the totals keep counting", "[history]") {
  Harness h(one_leg());
  auto& s = h.supervisor;
  s.handle_start(h.now());
  s.handle_addresses_resolved(h.now(), {edge("10.0.0.1")});  // one address: no moves
  h.drain();
  for (int i = 0; i < 20; ++i) {
    s.handle_dial_failed(h.now(), 0, errc::dial_failed);
    h.drain();
    // With its only address avoided, the leg asks discovery again first.
    auto after = h.advance(1s);
    if (!after.empty() && after.front() == "Resolve") {
      s.handle_addresses_resolved(h.now(), {edge("10.0.0.1")});
      h.drain();
    }
  }
  const auto& history = s.leg_history(0);
  CHECK(history.entries().size() == LegHistory::kCapacity);
  CHECK(to_string(history.entries().back()) == "dialing 10.0.0.1:7844 transport=0");
  CHECK(history.totals().dials == 21);
  CHECK(history.totals().attempt_failures == std::map<std::string, std::uint64_t>{{"dial_failed", 20}});
  CHECK(history.totals().address_moves == 0);
}

TEST_CASE("shutdown records unregistering and the edge's acknowledgement", "[history]") {
  Harness h(one_leg());
  auto& s = h.supervisor;
  const auto t0 = h.now();
  h.bring_up_leg0();
  h.advance(1s);
  s.handle_shutdown(h.now());
  h.drain();
  s.handle_unregister_acked(h.now(), 0, 0);
  h.drain();
  auto lines = history(s, 0, t0);
  REQUIRE(lines.size() == 5);
  CHECK(lines[3] == "1000ms unregistering 10.0.0.1:7844 transport=0");
  CHECK(lines[4] == "1000ms unregistered 10.0.0.1:7844 transport=0");
  CHECK(name(s.legs()[0].phase) == "closed");
}

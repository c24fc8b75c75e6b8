// The QUIC listener's decisions before authentication (handshake_guard.hpp),
// in virtual time: when a new client gets a Retry, when it is dropped, and
// that the legitimate always keep room.

#include "accept_budget.hpp"
#include "defence_log.hpp"
#include "handshake_guard.hpp"

#include <catch2/catch.hpp>

namespace warren::quic {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::make_address;

boost::asio::ip::address source(std::uint32_t i) {
  return boost::asio::ip::address_v4(0x7f000000u | (i & 0xffffffu));  // 127.x.y.z
}

TEST_CASE("guard: a quiet edge accepts tokenless Initials without a Retry", "[quic][guard]") {
  HandshakeGuard guard({});
  for (std::uint32_t i = 0; i < 20; ++i)
    CHECK(guard.on_initial(source(i), false, std::chrono::seconds(1) + i * 100ms) == InitialVerdict::accept);
  CHECK(guard.pending() == 20);
  CHECK(guard.pending_unvalidated() == 20);
  CHECK(guard.counters().retried == 0);
}

TEST_CASE("guard: above retry_above_rate new Initials get a Retry, and again below it after a second",
          "[quic][guard]") {
  HandshakeLimits limits;
  limits.retry_above_rate = 100;
  limits.retry_above_pending = 1000;
  limits.max_handshakes = 2000;
  HandshakeGuard guard(limits);
  auto t = 10s;
  std::size_t accepted = 0, retried = 0;
  // 400 Initials in 200 ms from distinct sources: 2,000/s.
  for (std::uint32_t i = 0; i < 400; ++i) {
    auto v = guard.on_initial(source(i), false, t + i * 500us);
    accepted += v == InitialVerdict::accept;
    retried += v == InitialVerdict::retry;
    guard.handshake_ended(source(i), false);  // keep pending out of it
  }
  CHECK(accepted == 100);  // the first 100 of the window, then Retry
  CHECK(retried == 300);
  // Two seconds of silence later the rate has decayed to nothing.
  CHECK(guard.initial_rate(t + 2200ms) == 0);
  CHECK(guard.on_initial(source(9999), false, t + 2200ms) == InitialVerdict::accept);
}

TEST_CASE("guard: the rate estimate slides instead of resetting at window edges", "[quic][guard]") {
  RateEstimator rate;
  auto t = 100s;
  for (int i = 0; i < 1000; ++i) rate.add(t + i * 1ms);  // 1,000 events in [100 s, 101 s)
  CHECK(rate.per_second(t + 999ms) == Approx(1000).epsilon(0.01));
  // Half way into the next window half of the old one still counts.
  CHECK(rate.per_second(t + 1500ms) == Approx(500).epsilon(0.01));
  CHECK(rate.per_second(t + 3s) == 0);
}

TEST_CASE("guard: unvalidated handshakes never hold more than retry_above_pending slots", "[quic][guard]") {
  HandshakeLimits limits;
  limits.retry_above_rate = 1'000'000;  // rate alone would never trigger
  limits.retry_above_pending = 16;
  limits.max_handshakes = 64;
  HandshakeGuard guard(limits);
  auto t = 5s;
  for (std::uint32_t i = 0; i < 1000; ++i) guard.on_initial(source(i), false, t + i * 1ms);
  CHECK(guard.pending_unvalidated() == 16);
  CHECK(guard.counters().retried == 1000 - 16);
  // A connector that answered its Retry still finds room.
  CHECK(guard.on_initial(source(5000), true, t + 2s) == InitialVerdict::accept);
  CHECK(guard.pending() == 17);
}

TEST_CASE("guard: validated handshakes are capped per source and in total", "[quic][guard]") {
  HandshakeLimits limits;
  limits.max_handshakes = 10;
  limits.max_handshakes_per_source = 3;
  HandshakeGuard guard(limits);
  auto t = 1s;
  for (int i = 0; i < 3; ++i) CHECK(guard.on_initial(source(1), true, t) == InitialVerdict::accept);
  CHECK(guard.on_initial(source(1), true, t) == InitialVerdict::source_cap);
  // Another port of the same address is the same source.
  for (std::uint32_t i = 2; i < 9; ++i) CHECK(guard.on_initial(source(i), true, t) == InitialVerdict::accept);
  CHECK(guard.pending() == 10);
  CHECK(guard.on_initial(source(50), true, t) == InitialVerdict::global_cap);
  // Ending one frees its slot and its source's.
  guard.handshake_ended(source(1), true);
  CHECK(guard.on_initial(source(1), true, t) == InitialVerdict::accept);
  CHECK(guard.counters().source_cap == 1);
  CHECK(guard.counters().global_cap == 1);
}

TEST_CASE("guard: in auto mode a source at its cap is asked to validate rather than dropped", "[quic][guard]") {
  HandshakeLimits limits;
  limits.max_handshakes_per_source = 2;
  HandshakeGuard guard(limits);
  CHECK(guard.on_initial(source(7), false, 1s) == InitialVerdict::accept);
  CHECK(guard.on_initial(source(7), false, 1s) == InitialVerdict::accept);
  CHECK(guard.on_initial(source(7), false, 1s) == InitialVerdict::retry);
  CHECK(guard.on_initial(source(7), true, 1s) == InitialVerdict::source_cap);
}

TEST_CASE("guard: retry = always and retry = never", "[quic][guard]") {
  HandshakeLimits always;
  always.retry = RetryMode::always;
  HandshakeGuard a(always);
  CHECK(a.on_initial(source(1), false, 1s) == InitialVerdict::retry);
  CHECK(a.on_initial(source(1), true, 1s) == InitialVerdict::accept);
  CHECK(a.pending_unvalidated() == 0);

  HandshakeLimits never;
  never.retry = RetryMode::never;
  never.max_handshakes = 5;
  never.max_handshakes_per_source = 100;
  HandshakeGuard n(never);
  for (int i = 0; i < 5; ++i) CHECK(n.on_initial(source(1), false, 1s) == InitialVerdict::accept);
  CHECK(n.on_initial(source(2), false, 1s) == InitialVerdict::global_cap);
  CHECK(n.counters().retried == 0);
}

TEST_CASE("guard: the per-source table holds only sources with a handshake in progress", "[quic][guard]") {
  HandshakeGuard guard({});
  for (std::uint32_t i = 0; i < 50; ++i) guard.on_initial(source(i), false, 1s);
  CHECK(guard.sources() == 50);
  for (std::uint32_t i = 0; i < 50; ++i) guard.handshake_ended(source(i), false);
  CHECK(guard.sources() == 0);
  CHECK(guard.pending() == 0);
}

TEST_CASE("guard: IPv6 sources are grouped by /64, IPv4-mapped ones by address", "[quic][guard]") {
  CHECK(SourceKey::of(make_address("2001:db8::1")) == SourceKey::of(make_address("2001:db8::ffff:2")));
  CHECK_FALSE(SourceKey::of(make_address("2001:db8::1")) == SourceKey::of(make_address("2001:db8:0:1::1")));
  CHECK(SourceKey::of(make_address("::ffff:127.0.0.5")) == SourceKey::of(make_address("127.0.0.5")));
  CHECK_FALSE(SourceKey::of(make_address("127.0.0.5")) == SourceKey::of(make_address("127.0.0.6")));
}

TEST_CASE("defence log: one line per defence per interval, counting what it did not report", "[quic][guard]") {
  DefenceLog log(10s);
  CHECK(log.fired("retry", 1s) == 1u);
  for (int i = 0; i < 500; ++i) CHECK_FALSE(log.fired("retry", 2s + i * 10ms));
  CHECK(log.fired("source_cap", 3s) == 1u);  // each defence has its own interval
  CHECK(log.fired("retry", 11s, 4) == 504u);
  CHECK_FALSE(log.fired("retry", 12s));
}

TEST_CASE("accept budget: new clients get at most their share of the loop's time", "[quic][guard]") {
  AcceptBudget budget(0.5, 50ms);
  auto t = 100s;
  // Saved-up time first: 50 ms of work at once.
  int taken = 0;
  while (budget.allows(t) && taken < 1000) {
    budget.charge(1ms);
    ++taken;
  }
  CHECK(taken == 50);
  // Then half of the wall clock: 20 ms of work per 40 ms, whatever is offered.
  int later = 0;
  for (int step = 1; step <= 400; ++step) {  // 400 x 0.1 ms = 40 ms
    if (budget.allows(t + step * 100us)) {
      budget.charge(1ms);
      ++later;
    }
  }
  CHECK(later == 20);
  // An idle second refills only up to the burst.
  int after_idle = 0;
  while (budget.allows(t + 2s) && after_idle < 1000) {
    budget.charge(1ms);
    ++after_idle;
  }
  CHECK(after_idle == 50);
}

}  // namespace
}  // namespace warren::quic

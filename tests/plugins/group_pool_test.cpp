// The `group` backend's TargetPool, sans-io: picks, active checks with
// rise/fall, passive ejection, in virtual time with scripted randomness.

#include "plugins/group/target_pool.hpp"

#include <warren/sdk/testing.hpp>

#include <catch2/catch.hpp>

#include <map>

using namespace warren;
using namespace warren::group;
using namespace std::chrono_literals;
using sdk::testing::ManualClock;
using sdk::testing::ScriptedRandom;

namespace {

PoolSettings settings(std::size_t n, Balance balance, bool active = true) {
  return PoolSettings{.targets = n, .balance = balance, .active_checks = active, .interval = 1s, .rise = 2,
                      .fall = 3, .max_connect_failures = 3, .ejection_time = 10s};
}

/// Drains poll_action; returns the probes asked for and the state changes.
struct Drained {
  std::vector<std::size_t> probes;
  std::vector<PoolAction> changes;
};
Drained drain(TargetPool& pool, sdk::TimePoint now) {
  Drained out;
  while (auto a = pool.poll_action(now)) {
    if (auto* p = std::get_if<ProbeTarget>(&*a)) out.probes.push_back(p->target);
    else out.changes.push_back(*a);
  }
  return out;
}

/// Runs every probe due up to `until`, answering each at once with `ok(target)`.
template <typename Ok>
void run_probes(TargetPool& pool, ManualClock& clock, sdk::TimePoint until, Ok ok) {
  while (true) {
    for (auto i : drain(pool, clock.now()).probes) pool.handle_probe_result(clock.now(), i, ok(i));
    auto next = pool.next_timeout();
    if (!next || *next > until) break;
    clock.advance(*next - clock.now());
  }
  clock.advance(until - clock.now());
}

}  // namespace

TEST_CASE("round_robin takes targets in turn and skips a target that is down") {
  ManualClock clock;
  ScriptedRandom random({0.5});
  TargetPool pool(settings(3, Balance::round_robin), random, clock.now());
  std::vector<std::size_t> got;
  for (int i = 0; i < 6; ++i) got.push_back(*pool.pick(clock.now()));
  CHECK(got == std::vector<std::size_t>{0, 1, 2, 0, 1, 2});

  // Target 1 fails three probes in a row (fall = 3): it is skipped.
  run_probes(pool, clock, clock.now() + 3s, [](std::size_t i) { return i != 1; });
  REQUIRE_FALSE(pool.available(1, clock.now()));
  std::map<std::size_t, int> counts;
  for (int i = 0; i < 1000; ++i) ++counts[*pool.pick(clock.now())];
  CHECK(counts[0] == 500);
  CHECK(counts[2] == 500);
  CHECK(counts.count(1) == 0);
}

TEST_CASE("fall failing probes take a target down and rise passing ones bring it back") {
  ManualClock clock;
  ScriptedRandom random({0.5});
  TargetPool pool(settings(1, Balance::round_robin), random, clock.now());
  auto first = drain(pool, clock.now());
  REQUIRE(first.probes == std::vector<std::size_t>{0});  // target 0 of 1 is probed at once
  CHECK(drain(pool, clock.now()).probes.empty());           // never two probes of one target at once
  pool.handle_probe_result(clock.now(), 0, false);
  for (int i = 0; i < 2; ++i) {
    REQUIRE(pool.next_timeout() == clock.now() + 1s);
    clock.advance(1s);
    REQUIRE(drain(pool, clock.now()).probes.size() == 1);
    CHECK(pool.available(0, clock.now()));  // fall = 3: not yet
    pool.handle_probe_result(clock.now(), 0, false);
  }
  auto down = drain(pool, clock.now());
  REQUIRE(down.changes.size() == 1);
  CHECK(std::get<TargetDown>(down.changes[0]).why == DownReason::probes_failed);
  CHECK_FALSE(pool.available(0, clock.now()));
  CHECK_FALSE(pool.pick(clock.now()));  // none available: the stream is refused

  clock.advance(1s);
  REQUIRE(drain(pool, clock.now()).probes.size() == 1);
  pool.handle_probe_result(clock.now(), 0, true);
  CHECK_FALSE(pool.available(0, clock.now()));  // rise = 2
  clock.advance(1s);
  REQUIRE(drain(pool, clock.now()).probes.size() == 1);
  pool.handle_probe_result(clock.now(), 0, true);
  auto up = drain(pool, clock.now());
  REQUIRE(up.changes.size() == 1);
  CHECK(std::holds_alternative<TargetUp>(up.changes[0]));
  CHECK(pool.pick(clock.now()) == 0u);
}

TEST_CASE("first probes are spread over one interval and a late wake-up causes no burst") {
  ManualClock clock;
  ScriptedRandom random({0.5});
  TargetPool pool(settings(4, Balance::round_robin), random, clock.now());
  auto start = clock.now();
  std::vector<sdk::Duration> first;
  for (int step = 0; step < 4; ++step) {
    auto next = *pool.next_timeout();
    clock.advance(next - clock.now());
    for (auto i : drain(pool, clock.now()).probes) {
      first.push_back(clock.now() - start);
      pool.handle_probe_result(clock.now(), i, true);
    }
  }
  CHECK(first == std::vector<sdk::Duration>{0ms, 250ms, 500ms, 750ms});
  clock.advance(10s);  // the loop was busy: every target is overdue
  CHECK(drain(pool, clock.now()).probes.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) pool.handle_probe_result(clock.now(), i, true);
  CHECK(drain(pool, clock.now()).probes.empty());
  CHECK(pool.next_timeout() == clock.now() + 1s);
}

TEST_CASE("consecutive connect failures eject a target until rise probes pass") {
  ManualClock clock;
  ScriptedRandom random({0.5});
  TargetPool pool(settings(2, Balance::round_robin), random, clock.now());
  drain(pool, clock.now());
  pool.handle_probe_result(clock.now(), 0, true);  // answer the first probes
  for (int i = 0; i < 3; ++i) {
    CHECK(pool.available(1, clock.now()));
    REQUIRE(pool.pick(clock.now(), 0) == 1u);
    pool.handle_connect_failed(clock.now(), 1);
  }
  auto changes = drain(pool, clock.now()).changes;
  REQUIRE(changes.size() == 1);
  CHECK(std::get<TargetDown>(changes[0]).why == DownReason::connect_failures);
  CHECK_FALSE(pool.available(1, clock.now()));
  CHECK(pool.connections(1) == 0);
  CHECK_FALSE(pool.pick(clock.now(), 0));  // the only other one is avoided
  run_probes(pool, clock, clock.now() + 2s, [](std::size_t) { return true; });
  CHECK(pool.available(1, clock.now()));
}

TEST_CASE("a connect success ends the failure streak") {
  ManualClock clock;
  ScriptedRandom random({0.5});
  TargetPool pool(settings(1, Balance::round_robin, false), random, clock.now());
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 2; ++i) pool.handle_connect_failed(clock.now(), *pool.pick(clock.now()));
    pool.handle_connected(*pool.pick(clock.now()));
  }
  CHECK(pool.available(0, clock.now()));
  CHECK(drain(pool, clock.now()).changes.empty());
}

TEST_CASE("without active checks an ejection lasts ejection_time") {
  ManualClock clock;
  ScriptedRandom random({0.5});
  TargetPool pool(settings(2, Balance::round_robin, false), random, clock.now());
  CHECK_FALSE(pool.next_timeout());  // no probes at all
  for (int i = 0; i < 3; ++i) pool.handle_connect_failed(clock.now(), 0);
  CHECK(drain(pool, clock.now()).changes.size() == 1);
  CHECK_FALSE(pool.available(0, clock.now()));
  CHECK(pool.next_timeout() == clock.now() + 10s);
  for (int i = 0; i < 10; ++i) CHECK(pool.pick(clock.now()) == 1u);
  clock.advance(10s);
  auto back = drain(pool, clock.now()).changes;
  REQUIRE(back.size() == 1);
  CHECK(std::holds_alternative<TargetUp>(back[0]));
  CHECK(pool.available(0, clock.now()));
}

TEST_CASE("least_connections picks the fewest open streams, round robin among ties") {
  ManualClock clock;
  ScriptedRandom random({0.5});
  TargetPool pool(settings(3, Balance::least_connections), random, clock.now());
  CHECK(pool.pick(clock.now()) == 0u);
  CHECK(pool.pick(clock.now()) == 1u);
  CHECK(pool.pick(clock.now()) == 2u);
  pool.handle_closed(1);
  CHECK(pool.pick(clock.now()) == 1u);  // the only one with 0
  pool.handle_closed(0);
  pool.handle_closed(2);
  CHECK(pool.pick(clock.now()) == 2u);  // 0 and 2 tie at 0: the rotation goes on after 1
  CHECK(pool.pick(clock.now()) == 0u);
  CHECK(pool.connections(0) == 1);
  CHECK(pool.connections(1) == 1);
  CHECK(pool.connections(2) == 1);
  pool.handle_connect_failed(clock.now(), 2);  // a failed connect is no open stream
  CHECK(pool.pick(clock.now()) == 2u);
}

TEST_CASE("random draws from the injected source among available targets only") {
  ManualClock clock;
  ScriptedRandom random({0.0, 0.4, 0.99});
  TargetPool pool(settings(3, Balance::random), random, clock.now());
  CHECK(pool.pick(clock.now()) == 0u);
  CHECK(pool.pick(clock.now()) == 1u);
  CHECK(pool.pick(clock.now()) == 2u);
  CHECK(pool.pick(clock.now(), 2) == 0u);  // 0.0 of {0, 1}
  CHECK(pool.pick(clock.now(), 2) == 0u);  // 0.4 of {0, 1}
  CHECK(pool.pick(clock.now(), 2) == 1u);  // 0.99 of {0, 1}
}

TEST_CASE("a probe result nobody asked for is ignored") {
  ManualClock clock;
  ScriptedRandom random({0.5});
  TargetPool pool(settings(1, Balance::round_robin), random, clock.now());
  for (int i = 0; i < 5; ++i) pool.handle_probe_result(clock.now(), 0, false);
  CHECK(pool.available(0, clock.now()));
}

TEST_CASE("with the default fall = 2 one failed probe leaves a target up and the second takes it down") {
  // The trial read "down" one interval after the start as the first check;
  // the event now says how many failed in a row, and the log line with it.
  ManualClock clock;
  ScriptedRandom random({0.5});
  PoolSettings defaults{.targets = 1};
  REQUIRE(defaults.fall == 2);
  TargetPool pool(defaults, random, clock.now());
  // Runs target 0's probe due now with result `ok`; the state changes it made; then one interval on.
  auto probe = [&](bool ok) {
    REQUIRE(drain(pool, clock.now()).probes.size() == 1);
    pool.handle_probe_result(clock.now(), 0, ok);
    auto changes = drain(pool, clock.now()).changes;
    clock.advance(1s);
    return changes;
  };
  CHECK(probe(false).empty());
  CHECK(pool.available(0, clock.now()));
  CHECK(probe(true).empty());  // a pass between two failures starts the count over
  CHECK(probe(false).empty());
  CHECK(pool.available(0, clock.now()));
  auto down = probe(false);
  REQUIRE(down.size() == 1);
  CHECK(std::get<TargetDown>(down[0]).why == DownReason::probes_failed);
  CHECK(std::get<TargetDown>(down[0]).in_a_row == 2);
  CHECK_FALSE(pool.available(0, clock.now()));
  // Back after rise = 2 passes, and the event says so.
  CHECK(probe(true).empty());
  auto up = probe(true);
  REQUIRE(up.size() == 1);
  CHECK(std::get<TargetUp>(up[0]).why == UpReason::probes_passed);
  CHECK(std::get<TargetUp>(up[0]).in_a_row == 2);
}

TEST_CASE("an ejection's events say how many connects failed and that the ejection ended") {
  ManualClock clock;
  ScriptedRandom random({0.5});
  TargetPool pool(settings(2, Balance::round_robin, false), random, clock.now());
  for (int i = 0; i < 3; ++i) pool.handle_connect_failed(clock.now(), 0);
  auto down = drain(pool, clock.now()).changes;
  REQUIRE(down.size() == 1);
  CHECK(std::get<TargetDown>(down[0]).why == DownReason::connect_failures);
  CHECK(std::get<TargetDown>(down[0]).in_a_row == 3);
  clock.advance(10s);
  auto up = drain(pool, clock.now()).changes;
  REQUIRE(up.size() == 1);
  CHECK(std::get<TargetUp>(up[0]).why == UpReason::ejection_ended);
}

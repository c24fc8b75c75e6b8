// Thousands of seeded runs of the supervisor against SimWorld, checking
// its invariants after every step. A failure prints the seed, the drawn
// scenario and the last steps; replay one seed with
//   WARREN_SIM_FIRST_SEED=<seed> WARREN_SIM_SEEDS=1 supervisor_test "[simulation]"

#include "sim_world.hpp"

#ifdef WARREN_HAVE_BACKOFF_PLUGIN
#include "plugins/backoff/backoff.hpp"
#endif

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>

using namespace warren::core::supervisor::test;

namespace {

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::strtoull(value, nullptr, 10) : fallback;
}

}  // namespace

TEST_CASE("seeded simulation: the supervisor keeps its invariants under random faults", "[supervisor][simulation]") {
  const std::uint64_t first = env_or("WARREN_SIM_FIRST_SEED", 1);
  const std::uint64_t seeds = env_or("WARREN_SIM_SEEDS", 5000);
  const std::size_t events = env_or("WARREN_SIM_EVENTS", 300);

  SimStats stats;
  auto started = std::chrono::steady_clock::now();
  for (std::uint64_t seed = first; seed < first + seeds; ++seed) {
    SimWorld world(seed, stats);
    if (auto violation = world.run(events)) FAIL(*violation);
  }
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "simulation: " << stats.runs << " seeds, " << stats.events << " steps in " << elapsed << " s; exits 0/1/2/3: "
            << stats.exits[0] << "/" << stats.exits[1] << "/" << stats.exits[2] << "/" << stats.exits[3]
            << ", reached horizon " << stats.unfinished << "; registrations " << stats.registrations
            << ", heartbeat timeouts " << stats.heartbeat_timeouts << ", connect timeouts " << stats.connect_timeouts
            << ", fallbacks " << stats.fallbacks << ", retry-after floors " << stats.retry_floors
            << ", held-slot retries " << stats.held_slot_retries << ", unregisters " << stats.unregisters << "; streams " << stats.streams << ", legs drained " << stats.legs_drained
            << ", graces expired " << stats.graces_expired << ", drains cut by a lost leg " << stats.drains_cut
            << "; dials after a counted failure " << stats.counted_failures << ", on another address "
            << stats.rotations_away << "\n";

  if (seeds >= 1000) {
    // The world must keep reaching every outcome, or the invariants above
    // were checked against too little.
    CHECK(stats.exits[0] > seeds / 10);
    CHECK(stats.exits[1] > seeds / 100);
    CHECK(stats.exits[3] > seeds / 100);
    CHECK(stats.heartbeat_timeouts > seeds / 10);
    CHECK(stats.connect_timeouts > seeds / 10);
    CHECK(stats.fallbacks > seeds / 100);
    CHECK(stats.retry_floors > seeds / 100);
    CHECK(stats.held_slot_retries > seeds / 100);
    CHECK(stats.unregisters > seeds / 10);
    CHECK(stats.streams > seeds);
    CHECK(stats.legs_drained > seeds / 10);
    CHECK(stats.graces_expired > seeds / 100);
    CHECK(stats.drains_cut > 0);
    CHECK(stats.rotations_away > seeds / 10);
  }
}

#ifdef WARREN_HAVE_BACKOFF_PLUGIN
// The same worlds with the real backoff plugin's policy, when it is built.
TEST_CASE("seeded simulation with the backoff plugin's policy", "[supervisor][simulation]") {
  const std::uint64_t seeds = env_or("WARREN_SIM_SEEDS", 5000) / 5;
  BackoffFactory plugin_policy = [](const SimScenario& s) -> std::unique_ptr<warren::sdk::BackoffPolicy> {
    warren::backoff::BackoffConfig config;
    config.base = s.backoff_base;
    config.max = s.backoff_cap;
    config.max_attempts = s.backoff_give_up;
    config.reset_after = std::chrono::seconds(10);
    return std::make_unique<warren::backoff::ExponentialBackoff>(config);
  };
  SimStats stats;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    SimWorld world(seed, stats, plugin_policy);
    if (auto violation = world.run(300)) FAIL(*violation);
  }
  CHECK(stats.runs == seeds);
}
#endif

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
  const std::uint64_t seeds = env_or("WARREN_SIM_SEEDS", 10000);
  const std::size_t events = env_or("WARREN_SIM_EVENTS", 300);

  SimStats stats;
  auto started = std::chrono::steady_clock::now();
  for (std::uint64_t seed = first; seed < first + seeds; ++seed) {
    SimWorld world(seed, stats);
    if (auto violation = world.run(events)) FAIL(*violation);
  }
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "simulation: " << stats.runs << " seeds, " << stats.events << " steps in " << elapsed
            << " s; exits 0/1/2/3: " << stats.exits[0] << "/" << stats.exits[1] << "/" << stats.exits[2] << "/"
            << stats.exits[3] << ", reached horizon " << stats.unfinished << "; registrations " << stats.registrations
            << ", heartbeat timeouts " << stats.heartbeat_timeouts << ", connect timeouts " << stats.connect_timeouts
            << ", fallbacks " << stats.fallbacks << ", retry-after floors " << stats.retry_floors
            << ", held-slot retries " << stats.held_slot_retries << ", unregisters " << stats.unregisters
            << "; streams " << stats.streams << ", legs drained " << stats.legs_drained << ", graces expired "
            << stats.graces_expired << ", drains cut by a lost leg " << stats.drains_cut
            << "; dials after a counted failure " << stats.counted_failures << ", on another address "
            << stats.rotations_away << "\n  DNS: " << stats.resolves << " lookups (busiest virtual minute "
            << stats.max_resolves_per_minute << "), " << stats.dns_changes << " answer changes (+" << stats.dns_added
            << " -" << stats.dns_removed << ", empty " << stats.dns_empty << "), " << stats.stale_dials
            << " dials to an edge DNS had dropped\n  dead edges: " << stats.edge_deaths << " deaths, "
            << stats.edge_returns << " returns, " << stats.legs_lost_to_dead_edges
            << " legs lost with them; dials to a dead edge: " << stats.dead_dial_failed << " dial_failed, "
            << stats.dead_dial_unreachable << " peer_unreachable, " << stats.dead_dial_hung << " hung; "
            << stats.rehomes << " legs re-homed to another edge\n  replicas: " << stats.replica_runs << " supervisors, "
            << stats.edge_admissions << " edge admissions, " << stats.edge_replacements
            << " replacements of a stale leg, " << stats.closes_missed_by_edge << " closes the edge missed, "
            << stats.stale_slot_refusals << " refusals for a stale slot; steps with both replicas registered "
            << stats.replicas_registered_together << ", sharing an edge " << stats.replicas_sharing_an_edge
            << "\n  fatal exits checked " << stats.fatal_exits_checked << ", dials at the retry limit "
            << stats.retry_streaks_at_limit << ", dials sharing a live edge over dead free ones "
            << stats.shared_live_edge << "\n  returns: " << stats.probes << " probes (" << stats.probe_failures
            << " failed, " << stats.probes_cut_short << " closed by the supervisor), " << stats.returns
            << " returns (" << stats.returns_registered << " registered), " << stats.retiring_streams
            << " streams running across a return, " << stats.retirements_drained << " drained, "
            << stats.retirements_cut_by_grace << " ended by their grace period\n";

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
    // The faults of issue 8.
    CHECK(stats.dns_added > seeds / 10);
    CHECK(stats.dns_removed > seeds / 10);
    CHECK(stats.stale_dials > seeds / 100);
    CHECK(stats.edge_deaths > seeds);
    CHECK(stats.edge_returns > seeds / 10);
    CHECK(stats.dead_dial_failed > seeds / 100);
    CHECK(stats.dead_dial_unreachable > seeds / 100);
    CHECK(stats.dead_dial_hung > seeds / 100);
    CHECK(stats.legs_lost_to_dead_edges > seeds / 10);
    CHECK(stats.rehomes > seeds / 10);
    CHECK(stats.replica_runs > seeds + seeds / 5);
    CHECK(stats.replicas_registered_together > seeds);
    CHECK(stats.replicas_sharing_an_edge > seeds / 10);
    CHECK(stats.edge_replacements > seeds / 100);
    CHECK(stats.stale_slot_refusals > seeds / 100);
    CHECK(stats.fatal_exits_checked > seeds / 100);
    CHECK(stats.retry_streaks_at_limit > 0);
    // The return to the preferred transport (issue 10).
    CHECK(stats.probes > seeds / 10);
    CHECK(stats.probe_failures > seeds / 100);
    CHECK(stats.returns > seeds / 20);
    CHECK(stats.returns_registered > seeds / 20);
    CHECK(stats.retiring_streams > seeds / 200);
    CHECK(stats.retirements_drained > seeds / 100);
  }
}

#ifdef WARREN_HAVE_BACKOFF_PLUGIN
// The same worlds with the real backoff plugin's policy, when it is built.
TEST_CASE("seeded simulation with the backoff plugin's policy", "[supervisor][simulation]") {
  const std::uint64_t seeds = env_or("WARREN_SIM_SEEDS", 10000) / 10;
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

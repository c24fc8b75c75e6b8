// Thousands of seeded FlowTable worlds in virtual time (flow_simulation.*).
// A failure prints the seed, the settings and the last steps; replay one with
//   WARREN_SIM_FIRST_SEED=<seed> WARREN_SIM_SEEDS=1 udp_test "[simulation]"
#include "flow_simulation.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>

using namespace warren::core::udp::test;

namespace {

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::strtoull(value, nullptr, 10) : fallback;
}

}  // namespace

TEST_CASE("udp flows: seeded simulation keeps the flow table's invariants", "[udp][flows][simulation]") {
  const std::uint64_t first = env_or("WARREN_SIM_FIRST_SEED", 1);
  const std::uint64_t seeds = env_or("WARREN_SIM_SEEDS", 5000);
  const std::size_t steps = env_or("WARREN_SIM_EVENTS", 400);
  SimTotals totals;
  for (std::uint64_t seed = first; seed < first + seeds; ++seed) {
    FlowSimulation world(seed, totals);
    if (auto violation = world.run(steps)) FAIL(*violation);
  }
  std::cout << "udp flow simulation: " << totals.runs << " seeds, " << totals.steps << " steps, " << totals.flows
            << " flows, " << totals.requests_forwarded << " requests and " << totals.responses_forwarded
            << " responses forwarded\n  closes:";
  for (const auto& [reason, count] : totals.closes) std::cout << " " << reason << " " << count;
  std::cout << "\n  drops:";
  for (const auto& [reason, count] : totals.drops) std::cout << " " << reason << " " << count;
  std::cout << "\n";
  // Every reason happened somewhere, or the simulation does not reach it.
  CHECK(totals.closes.size() == 7);
  CHECK(totals.drops.size() == 5);
}

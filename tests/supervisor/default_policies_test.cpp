// The built-in address and fallback policies on their own.

#include "core/supervisor/default_policies.hpp"
#include "supervisor_harness.hpp"

#include <catch2/catch.hpp>

using namespace warren::core::supervisor;
using namespace warren::core::supervisor::test;
using warren::sdk::errc;

TEST_CASE("the built-in address policy spreads legs and sticks when it can", "[supervisor]") {
  RotatingAddressPolicy policy;
  warren::sdk::SeededRandom random(1);
  auto edges = three_edges();
  std::vector<std::size_t> none, zero{0}, zero_one{0, 1}, all{0, 1, 2};

  warren::sdk::AddressState state;
  CHECK(policy.choose(state, edges, 1, none, random) == 1);  // the leg's own slot
  CHECK(policy.choose(state, edges, 1, none, random) == 1);  // sticky
  CHECK(policy.choose(state, edges, 1, zero_one, random) == 2);  // its address got taken
  CHECK(state.current == 2u);
  CHECK(policy.choose(state, edges, 1, all, random) == 0);   // all taken: walk on anyway

  warren::sdk::AddressState fresh;
  CHECK(policy.choose(fresh, edges, 0, zero, random) == 1);
}

TEST_CASE("the built-in address policy prefers a region no other leg uses", "[supervisor]") {
  RotatingAddressPolicy policy;
  warren::sdk::SeededRandom random(1);
  std::vector<warren::sdk::EdgeAddress> edges{edge("10.0.0.1", 7844, "fra"), edge("10.0.0.2", 7844, "fra"),
                                              edge("10.0.1.1", 7844, "ams")};
  std::vector<std::size_t> first{0};
  warren::sdk::AddressState state;
  CHECK(policy.choose(state, edges, 1, first, random) == 2);
}

TEST_CASE("the built-in address policy classifies errors", "[supervisor]") {
  RotatingAddressPolicy policy;
  warren::sdk::AddressState state;
  auto now = warren::sdk::TimePoint{};
  CHECK(policy.on_error(state, errc::dial_failed, now) == warren::sdk::AddressAction::rotate_and_count);
  CHECK(state.failures_here == 1);
  CHECK(policy.on_error(state, errc::rate_limited, now) == warren::sdk::AddressAction::keep);
  CHECK(policy.on_error(state, errc::heartbeat_timeout, now) == warren::sdk::AddressAction::rotate);
}

TEST_CASE("the built-in fallback policy moves on after N failures and wraps", "[supervisor]") {
  CountingFallbackPolicy policy(2);
  warren::sdk::FallbackState state;
  auto now = warren::sdk::TimePoint{};
  CHECK(policy.on_error(state, errc::quic_broken, 3, now) == 0);
  CHECK(policy.on_error(state, errc::quic_broken, 3, now) == 1);
  CHECK(state.dial_failures == 0);
  policy.on_connected(state, now);
  CHECK(policy.on_error(state, errc::dial_failed, 3, now) == 1);
  CHECK(policy.on_error(state, errc::dial_failed, 3, now) == 2);
  CHECK(policy.on_error(state, errc::dial_failed, 3, now) == 2);
  CHECK(policy.on_error(state, errc::dial_failed, 3, now) == 0);
  // A single transport never moves.
  warren::sdk::FallbackState single;
  for (int i = 0; i < 5; ++i) CHECK(policy.on_error(single, errc::dial_failed, 1, now) == 0);
}

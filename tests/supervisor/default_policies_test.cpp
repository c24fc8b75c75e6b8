// The built-in fallback policy on its own (the address role is the
// ip-rotation plugin's: tests/plugins/ip_rotation_test.cpp).

#include "core/supervisor/default_policies.hpp"

#include <catch2/catch.hpp>

using namespace warren::core::supervisor;
using warren::sdk::errc;

TEST_CASE("the built-in fallback policy moves on after N failures and wraps", "[supervisor]") {
  CountingFallbackPolicy policy(2);
  warren::sdk::FallbackState state;
  auto now = warren::sdk::TimePoint{};
  CHECK(policy.on_error(state, errc::handshake_timeout, 3, now) == 0);
  CHECK(policy.on_error(state, errc::handshake_timeout, 3, now) == 1);
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

TEST_CASE("the built-in fallback policy moves on at once on a connectivity error", "[supervisor]") {
  CountingFallbackPolicy policy(3);
  warren::sdk::FallbackState state;
  auto now = warren::sdk::TimePoint{};
  CHECK(policy.on_error(state, errc::dial_failed, 2, now) == 0);
  state.connectivity_error = true;
  CHECK(policy.on_error(state, errc::heartbeat_timeout, 2, now) == 1);
  CHECK(state.dial_failures == 0);
  state.connectivity_error = false;
  CHECK(policy.on_error(state, errc::dial_failed, 2, now) == 1);
}

TEST_CASE("the built-in fallback policy moves on at once when the transport says UDP is blocked", "[supervisor]") {
  CountingFallbackPolicy policy(3);
  warren::sdk::FallbackState state;
  auto now = warren::sdk::TimePoint{};
  CHECK(policy.on_error(state, errc::handshake_timeout, 2, now) == 0);
  CHECK(policy.on_error(state, errc::quic_broken, 2, now) == 1);
  CHECK(state.dial_failures == 0);
  // On the fallback it counts like any failure: back after N, never at once.
  CHECK(policy.on_error(state, errc::dial_failed, 2, now) == 1);
  CHECK(policy.on_error(state, errc::dial_failed, 2, now) == 1);
  CHECK(policy.on_error(state, errc::dial_failed, 2, now) == 0);
}

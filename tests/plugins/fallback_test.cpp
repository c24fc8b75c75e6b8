// The fallback policy plugin's rules and keys, exactly, under scripted randomness.

#include "plugins/fallback/fallback.hpp"

#include <warren/sdk/testing.hpp>

#include <catch2/catch.hpp>

using namespace warren;
using namespace std::chrono_literals;
using fallback::CountingFallback;
using fallback::FallbackConfig;
using sdk::errc;

TEST_CASE("the fallback policy moves on after max_failures dial failures and wraps", "[fallback]") {
  CountingFallback policy({.probe_interval = 5min, .max_failures = 2});
  sdk::FallbackState state;
  auto now = sdk::TimePoint{};
  CHECK(policy.on_error(state, errc::dial_failed, 3, now) == 0);
  CHECK(policy.on_error(state, errc::tls_failed, 3, now) == 1);  // a rejected handshake counts like any failure
  CHECK(state.dial_failures == 0);
  policy.on_connected(state, now);
  CHECK(policy.on_error(state, errc::handshake_timeout, 3, now) == 1);
  CHECK(policy.on_error(state, errc::dial_failed, 3, now) == 2);
  CHECK(policy.on_error(state, errc::dial_failed, 3, now) == 2);
  CHECK(policy.on_error(state, errc::dial_failed, 3, now) == 0);
  // A single transport never moves.
  sdk::FallbackState single;
  for (int i = 0; i < 5; ++i) CHECK(policy.on_error(single, errc::quic_broken, 1, now) == 0);
}

TEST_CASE("the fallback policy moves at once on quic_broken or a connectivity error", "[fallback]") {
  CountingFallback policy({});
  CHECK(policy.config().max_failures == 3);
  sdk::FallbackState state;
  auto now = sdk::TimePoint{};
  CHECK(policy.on_error(state, errc::quic_broken, 2, now) == 1);
  CHECK(state.dial_failures == 0);
  sdk::FallbackState other;
  CHECK(policy.on_error(other, errc::dial_failed, 2, now) == 0);
  other.connectivity_error = true;
  CHECK(policy.on_error(other, errc::heartbeat_timeout, 2, now) == 1);
}

TEST_CASE("the fallback policy probes the preferred transport every probe_interval, jittered by 20 percent",
          "[fallback]") {
  CountingFallback policy({.probe_interval = 10s, .max_failures = 3});
  sdk::FallbackState state;
  auto now = sdk::TimePoint{} + 1h;
  sdk::testing::ScriptedRandom low({0.0}), high({0.999999}), mid({0.5});
  CHECK_FALSE(policy.next_probe(state, now, mid));  // on the preferred transport: nothing to probe
  state.current = 1;
  CHECK(*policy.next_probe(state, now, low) == now + 8s);
  CHECK(*policy.next_probe(state, now, mid) == now + 10s);
  auto late = *policy.next_probe(state, now, high);
  CHECK(late > now + 11900ms);
  CHECK(late < now + 12s);
  CountingFallback never({.probe_interval = 0s, .max_failures = 3});
  CHECK_FALSE(never.next_probe(state, now, mid));
}

TEST_CASE("the fallback plugin's keys: defaults, docs and refusals", "[fallback]") {
  const auto& schema = fallback::fallback_schema();
  for (const auto& key : schema.keys()) CHECK_FALSE(key.doc.empty());
  using sdk::testing::TableBuilder;
  auto errors = [&](const sdk::ConfigTable& t) {
    sdk::Diagnostics d;
    auto c = schema.read(t, d);
    std::vector<std::string> out;
    for (const auto& x : d.list()) out.push_back(x.message);
    CHECK(c.has_value() == out.empty());
    return out;
  };
  sdk::Diagnostics diagnostics;
  auto config = schema.read(TableBuilder().table(), diagnostics);
  REQUIRE(config);
  CHECK(config->probe_interval == 5min);
  CHECK(config->max_failures == 3);
  CHECK(errors(TableBuilder().set("probe_interval", "0s").set("max_failures", 1).table()).empty());
  CHECK(errors(TableBuilder().set("probe_interval", "500ms").table()) ==
        std::vector<std::string>{"'probe_interval' must be \"0s\" (never) or at least 1s, not 500ms"});
  CHECK(errors(TableBuilder().set("max_failures", 0).table()).size() == 1);
}

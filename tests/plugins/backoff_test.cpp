// The backoff policy's arithmetic, exactly, under scripted and seeded randomness.

#include "plugins/backoff/backoff.hpp"

#include <warren/sdk/testing.hpp>

#include <catch2/catch.hpp>

using namespace warren;
using namespace std::chrono_literals;
using backoff::BackoffConfig;
using backoff::ExponentialBackoff;
using backoff::Jitter;
using sdk::testing::ManualClock;
using sdk::testing::ScriptedRandom;

namespace {

std::vector<sdk::Duration> delays(const ExponentialBackoff& policy, sdk::RandomSource& random, int n) {
  sdk::BackoffState state;
  ManualClock clock;
  std::vector<sdk::Duration> out;
  for (int i = 0; i < n; ++i) {
    auto d = policy.next_delay(state, clock.now(), random);
    REQUIRE(d);
    out.push_back(*d);
    clock.advance(*d);
  }
  return out;
}

BackoffConfig config(Jitter jitter) {
  BackoffConfig c;
  c.base = 1s;
  c.max = 30s;
  c.multiplier = 2.0;
  c.jitter = jitter;
  return c;
}

}  // namespace

TEST_CASE("without jitter the delays double up to the cap") {
  ExponentialBackoff policy(config(Jitter::none));
  ScriptedRandom random({0.5});
  CHECK(delays(policy, random, 7) == std::vector<sdk::Duration>{1s, 2s, 4s, 8s, 16s, 30s, 30s});
}

TEST_CASE("full jitter scales the ceiling by the random fraction") {
  ExponentialBackoff policy(config(Jitter::full));
  ScriptedRandom random({0.5, 0.25, 0.0});
  CHECK(delays(policy, random, 3) == std::vector<sdk::Duration>{500ms, 500ms, 0ms});
}

TEST_CASE("equal jitter keeps at least half the ceiling") {
  ExponentialBackoff policy(config(Jitter::equal));
  ScriptedRandom random({0.0, 0.5});
  CHECK(delays(policy, random, 3) == std::vector<sdk::Duration>{500ms, 1500ms, 2s});
}

TEST_CASE("proportional jitter spreads around the ceiling and never passes max") {
  auto c = config(Jitter::proportional);
  c.jitter_ratio = 0.5;
  ExponentialBackoff policy(c);
  ScriptedRandom random({0.0, 0.5, 1.0 - 0x1.0p-53});
  auto d = delays(policy, random, 3);
  CHECK(d[0] == 500ms);  // 1s * (1 - 0.5)
  CHECK(d[1] == 2s);     // 2s * 1
  CHECK(d[2] > 5999ms);  // 4s * ~1.5
  CHECK(d[2] <= 6s);
  ScriptedRandom high({1.0 - 0x1.0p-53});
  auto capped = delays(policy, high, 10);
  CHECK(capped.back() == 30s);  // 30s * 1.5 capped at max
}

TEST_CASE("jittered delays stay within bounds for many seeds") {
  for (auto jitter : {Jitter::full, Jitter::equal, Jitter::proportional}) {
    auto c = config(jitter);
    ExponentialBackoff policy(c);
    for (std::uint64_t seed = 0; seed < 200; ++seed) {
      sdk::SeededRandom random(seed);
      sdk::BackoffState state;
      for (std::uint32_t n = 1; n <= 12; ++n) {
        auto d = policy.next_delay(state, {}, random);
        REQUIRE(d);
        auto top = policy.ceiling(n);
        INFO("seed " << seed << " failure " << n);
        CHECK(*d >= 0s);
        CHECK(*d <= c.max);
        if (jitter == Jitter::full) CHECK(*d <= top);
        if (jitter == Jitter::equal) CHECK(*d >= top / 2);
        if (jitter == Jitter::equal) CHECK(*d <= top);
        if (jitter == Jitter::proportional) CHECK(*d >= top * 0.8 - 1ns);
      }
    }
  }
}

TEST_CASE("the same seed gives the same delays") {
  ExponentialBackoff policy(config(Jitter::full));
  sdk::SeededRandom a(42), b(42);
  CHECK(delays(policy, a, 10) == delays(policy, b, 10));
}

TEST_CASE("max_attempts gives up after that many consecutive failures") {
  auto c = config(Jitter::none);
  c.max_attempts = 3;
  ExponentialBackoff policy(c);
  sdk::SeededRandom random(1);
  sdk::BackoffState state;
  CHECK(policy.next_delay(state, {}, random) == 1s);
  CHECK(policy.next_delay(state, {}, random) == 2s);
  CHECK(policy.next_delay(state, {}, random) == 4s);
  CHECK_FALSE(policy.next_delay(state, {}, random));
}

TEST_CASE("a connection that stayed up for reset_after starts the count again") {
  auto c = config(Jitter::none);
  c.reset_after = 60s;
  ExponentialBackoff policy(c);
  sdk::SeededRandom random(1);
  ManualClock clock;
  sdk::BackoffState state;
  for (int i = 0; i < 4; ++i) policy.next_delay(state, clock.now(), random);  // 1, 2, 4, 8
  policy.on_connected(state, clock.now());
  clock.advance(59s);
  CHECK(policy.next_delay(state, clock.now(), random) == 16s);  // flapped: keeps backing off
  policy.on_connected(state, clock.now());
  clock.advance(60s);
  CHECK(policy.next_delay(state, clock.now(), random) == 1s);  // was stable: starts over
}

TEST_CASE("the ceiling does not overflow for huge failure counts") {
  ExponentialBackoff policy(config(Jitter::none));
  CHECK(policy.ceiling(1'000'000) == 30s);
}

TEST_CASE("the backoff table is validated") {
  using sdk::testing::TableBuilder;
  auto errors = [](const sdk::ConfigTable& t) {
    sdk::Diagnostics d;
    auto c = backoff::backoff_schema().read(t, d);
    std::vector<std::string> out;
    for (const auto& x : d.list()) out.push_back(x.message);
    CHECK(c.has_value() == out.empty());
    return out;
  };
  CHECK(errors(TableBuilder().set("base", "1s").set("max", "30s").table()).empty());
  CHECK(errors(TableBuilder().set("base", "10s").set("max", "1s").table()) ==
        std::vector<std::string>{"'max' (1s) must not be less than 'base' (10s)"});
  CHECK(errors(TableBuilder().set("multiplier", 0.5).table()) ==
        std::vector<std::string>{"'multiplier' = 0.5 is out of range: must be between 1 and 100"});
  CHECK(errors(TableBuilder().set("jitter", "ful").table()) ==
        std::vector<std::string>{"'jitter' = \"ful\" is not one of none, full, equal, proportional; did you mean 'full'?"});
  CHECK(errors(TableBuilder().set("jitter_ratio", 0.3).table()) ==
        std::vector<std::string>{"'jitter_ratio' only applies with jitter = \"proportional\"; remove it or change 'jitter'"});
  CHECK(errors(TableBuilder().set("max_atempts", 3).table()) ==
        std::vector<std::string>{"unknown key 'max_atempts' in [plugin]; did you mean 'max_attempts'?"});
  sdk::Diagnostics d;
  auto c = backoff::backoff_schema().read(
      TableBuilder().set("jitter", "proportional").set("jitter_ratio", 0.3).set("max_attempts", 5).table(), d);
  REQUIRE(c);
  CHECK(c->jitter == Jitter::proportional);
  CHECK(c->jitter_ratio == 0.3);
  CHECK(c->max_attempts == 5);
}

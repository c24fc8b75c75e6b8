// The summariser for repeated identical failures, in virtual time.

#include "core/log/repeat_summary.hpp"

#include <catch2/catch.hpp>

using namespace warren;
using namespace std::chrono_literals;

TEST_CASE("repeated identical failures are shown a few times, then summarised once per period") {
  core::RepeatSummary summary({.shown = 3, .every = 60s});
  sdk::TimePoint t0{};
  std::vector<std::string> said;
  // One failure every 5 s for 130 s.
  for (int i = 0; i <= 26; ++i)
    if (auto line = summary.record("cannot reach the edge", "full " + std::to_string(i), t0 + i * 5s))
      said.push_back(*line);
  REQUIRE(said.size() == 5);
  CHECK(said[0] == "full 0");
  CHECK(said[1] == "full 1");
  CHECK(said[2] == "full 2");
  // The last full line was at 10 s: 12 more attempts by 70 s, then 12 by 130 s.
  CHECK(said[3] == "still failing: cannot reach the edge (12 attempts in 60 s)");
  CHECK(said[4] == "still failing: cannot reach the edge (12 attempts in 60 s)");
  CHECK(summary.count() == 27);
  CHECK(summary.clear(t0 + 131s) == std::optional<std::string>(" after 27 failed attempts in 2 min 11 s"));
  CHECK(summary.count() == 0);
}

TEST_CASE("another failure starts over, and a recovery before any was held back says nothing more") {
  core::RepeatSummary summary({.shown = 1, .every = 30s});
  sdk::TimePoint t0{};
  CHECK(summary.record("a", "A", t0) == std::optional<std::string>("A"));
  CHECK_FALSE(summary.record("a", "A", t0 + 1s));
  CHECK(summary.record("b", "B", t0 + 2s) == std::optional<std::string>("B"));
  CHECK(summary.count() == 1);
  CHECK_FALSE(summary.clear(t0 + 3s));
  CHECK(summary.record("b", "B", t0 + 4s) == std::optional<std::string>("B"));
  CHECK_FALSE(summary.record("b", "B", t0 + 5s));
  CHECK(summary.record("b", "B", t0 + 34s) == std::optional<std::string>("still failing: b (2 attempts in 30 s)"));
}

// DropWarnings in virtual time: a reason whose count grows is said at once,
// then at most once per 10 s, each line counting what was dropped since the
// last one (held-back drops included); a reason that does not grow is never
// said, and reasons are limited apart.

#include "core/log/drop_warnings.hpp"

#include <warren/sdk/testing.hpp>

#include <catch2/catch.hpp>

#include <vector>

using namespace warren;
using namespace std::chrono_literals;
using core::DropTotal;
using core::DropWarnings;
using sdk::testing::ManualClock;

namespace {

std::vector<DropTotal> counts(std::uint64_t full, std::uint64_t socket) {
  return {{"table_full", full}, {"socket_buffer", socket}};
}

}  // namespace

TEST_CASE("drops: the first growth is said at once, then one line per reason per 10 s with the count since") {
  ManualClock clock;
  DropWarnings warnings(clock.now());
  CHECK(warnings.update(clock.now(), counts(0, 0)).empty());  // nothing dropped: nothing said
  clock.advance(5s);
  auto first = warnings.update(clock.now(), counts(3, 0));
  REQUIRE(first.size() == 1);
  CHECK(first[0].reason == "table_full");
  CHECK(first[0].dropped == 3);
  CHECK(first[0].over == 5s);  // since counting began
  // A burst every 5 s: held back until 10 s after the line, then all of it at once.
  clock.advance(5s);
  CHECK(warnings.update(clock.now(), counts(40, 0)).empty());
  clock.advance(4900ms);
  CHECK(warnings.update(clock.now(), counts(41, 0)).empty());
  clock.advance(100ms);
  auto second = warnings.update(clock.now(), counts(100, 0));
  REQUIRE(second.size() == 1);
  CHECK(second[0].dropped == 97);  // 37 + 1 held back, and 59 now
  CHECK(second[0].over == 10s);
  // Quiet for a minute: no line; the next drop is said at once, over the
  // time since the last read that found none (trial: a flood a second old
  // was said as "in the last 3 min 30 s").
  clock.advance(60s);
  CHECK(warnings.update(clock.now(), counts(100, 0)).empty());
  clock.advance(5s);
  auto after_quiet = warnings.update(clock.now(), counts(101, 0));
  REQUIRE(after_quiet.size() == 1);
  CHECK(after_quiet[0].dropped == 1);
  CHECK(after_quiet[0].over == 5s);
}

TEST_CASE("drops: each reason has its own 10 s, and a line names every reason that grew") {
  ManualClock clock;
  DropWarnings warnings(clock.now());
  clock.advance(1s);
  CHECK(warnings.update(clock.now(), counts(1, 0)).size() == 1);
  clock.advance(1s);
  auto other = warnings.update(clock.now(), counts(2, 7));  // table_full held back, socket_buffer is news
  REQUIRE(other.size() == 1);
  CHECK(other[0].reason == "socket_buffer");
  CHECK(other[0].dropped == 7);
  clock.advance(20s);
  auto both = warnings.update(clock.now(), counts(5, 8));
  REQUIRE(both.size() == 2);
  CHECK(both[0].reason == "table_full");
  CHECK(both[0].dropped == 4);
  CHECK(both[1].reason == "socket_buffer");
  CHECK(both[1].dropped == 1);
}

TEST_CASE("drops: a line says how many, over what time, why, and what to do") {
  CHECK(core::drop_line({"table_full", 37, 4s}, "raise max_flows") ==
        "37 datagrams dropped in the last 4 s (table_full): raise max_flows");
  CHECK(core::drop_line({"malformed", 1, 12s}, "") == "1 datagram dropped in the last 12 s (malformed)");
}

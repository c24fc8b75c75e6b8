// The unix backend's refusal lines in virtual time: one per reason, then at
// most one per 10 s with the count held back, a warning for permissions, and
// a line when connects succeed again.

#include "plugins/unix/refusal_log.hpp"

#include <warren/sdk/testing.hpp>

#include <catch2/catch.hpp>

#include <cerrno>

using namespace warren;
using namespace warren::unix_socket;
using namespace std::chrono_literals;
using sdk::testing::ManualClock;

TEST_CASE("each refusal reason is logged once, then once per 10 s with the count held back") {
  ManualClock clock;
  RefusalLog log("/run/app.sock");
  auto first = log.refused(ENOENT, clock.now());
  REQUIRE(first);
  CHECK(first->level == sdk::LogLevel::info);
  CHECK(first->text ==
        "backend /run/app.sock refuses streams: no socket there (ENOENT): is the service running, and is the path "
        "right?");
  for (int i = 0; i < 50; ++i) {
    clock.advance(100ms);
    CHECK_FALSE(log.refused(ENOENT, clock.now()));  // 5 s of refusals: held back
  }
  // Another reason meanwhile has a line of its own at once.
  auto other = log.refused(ECONNREFUSED, clock.now());
  REQUIRE(other);
  CHECK(other->text ==
        "backend /run/app.sock refuses streams: nobody listens on it (ECONNREFUSED): a socket file "
        "left behind by a stopped service, or not a socket");
  clock.advance(5s);
  auto summary = log.refused(ENOENT, clock.now());
  REQUIRE(summary);
  CHECK(summary->text ==
        "still failing: backend /run/app.sock refuses streams: no socket there (ENOENT) (51 attempts in 10 s)");
  clock.advance(1s);
  CHECK_FALSE(log.refused(ENOENT, clock.now()));
  clock.advance(1s);
  auto back = log.connected(clock.now());
  REQUIRE(back);
  CHECK(back->text == "backend /run/app.sock takes streams again after 54 refusals");
  CHECK_FALSE(log.connected(clock.now()));  // nothing held back any more
  // After a success the next refusal is news again.
  CHECK(log.refused(ENOENT, clock.now()));
}

TEST_CASE("a permission refusal is a warning, rate-limited like the others") {
  ManualClock clock;
  RefusalLog log("/run/app.sock");
  auto first = log.refused(EACCES, clock.now());
  REQUIRE(first);
  CHECK(first->level == sdk::LogLevel::warn);
  CHECK(first->text ==
        "backend /run/app.sock refuses streams: permission denied (EACCES): the connector's user needs "
        "write permission on the socket");
  CHECK_FALSE(log.refused(EACCES, clock.now()));
  clock.advance(10s);
  auto again = log.refused(EACCES, clock.now());
  REQUIRE(again);
  CHECK(again->level == sdk::LogLevel::warn);
  CHECK(again->text ==
        "still failing: backend /run/app.sock refuses streams: permission denied (EACCES) (2 attempts in 10 s)");
  auto back = log.connected(clock.now());
  REQUIRE(back);
  CHECK_THAT(back->text,
             Catch::StartsWith("backend /run/app.sock takes streams again after 3 failed attempts in 10 s"));
}

TEST_CASE("an abstract name's refusal and an unusual errno say what they are") {
  ManualClock clock;
  RefusalLog log("@app");
  CHECK(log.refused(ECONNREFUSED, clock.now())->text ==
        "backend @app refuses streams: nobody listens on that abstract name (ECONNREFUSED): is the service running?");
  CHECK_THAT(log.refused(ENOTDIR, clock.now())->text, Catch::Contains("(errno " + std::to_string(ENOTDIR) + ")"));
  // One refusal then a success: nothing was held back, so no line.
  CHECK_FALSE(RefusalLog("@x").connected(clock.now()));
}

// The udp backend's lines when it cannot open a flow's socket, in virtual
// time: one warning per reason, then at most one per 10 s with the count held
// back, and a line when sockets open again.

#include "plugins/udp/open_failure_log.hpp"

#include <warren/sdk/testing.hpp>

#include <catch2/catch.hpp>

#include <cerrno>

using namespace warren;
using namespace warren::udp;
using namespace std::chrono_literals;
using sdk::testing::ManualClock;

TEST_CASE("out of descriptors: one warning saying what to raise, then one per 10 s with the count held back") {
  ManualClock clock;
  OpenFailureLog log;
  auto first = log.failed(EMFILE, clock.now());
  REQUIRE(first);
  CHECK(first->level == sdk::LogLevel::warn);
  CHECK(first->text ==
        "cannot open a UDP socket for a new flow: Too many open files; each flow holds a descriptor: raise the "
        "connector's limit (ulimit -n; systemd LimitNOFILE)");
  for (int i = 0; i < 99; ++i) {
    clock.advance(50ms);
    CHECK_FALSE(log.failed(EMFILE, clock.now()));  // 4.95 s of failures: held back
  }
  // The system's table full is another reason: a line of its own at once.
  auto system = log.failed(ENFILE, clock.now());
  REQUIRE(system);
  CHECK(system->text ==
        "cannot open a UDP socket for a new flow: Too many open files in system; the whole system is out of open "
        "files: raise fs.file-max, or find the process that holds them");
  clock.advance(5050ms);
  auto summary = log.failed(EMFILE, clock.now());
  REQUIRE(summary);
  CHECK(summary->level == sdk::LogLevel::warn);
  CHECK(summary->text ==
        "still failing: cannot open a UDP socket for a new flow: Too many open files (100 attempts in 10 s)");
  clock.advance(1s);
  CHECK_FALSE(log.failed(EMFILE, clock.now()));
  auto back = log.opened(clock.now());
  REQUIRE(back);
  CHECK(back->level == sdk::LogLevel::info);
  CHECK(back->text == "UDP sockets for new flows open again after 103 failures");
  CHECK_FALSE(log.opened(clock.now()));    // nothing held back any more
  CHECK(log.failed(EMFILE, clock.now()));  // after a success the next failure is news again
}

TEST_CASE("one reason held back: the line after recovery gives its count and time") {
  ManualClock clock;
  OpenFailureLog log;
  REQUIRE(log.failed(EMFILE, clock.now()));
  clock.advance(2s);
  CHECK_FALSE(log.failed(EMFILE, clock.now()));
  auto back = log.opened(clock.now());
  REQUIRE(back);
  CHECK(back->text == "UDP sockets for new flows open again after 2 failed attempts in 2 s");
  // One failure, then a socket that opens: the failure was said in full, no line.
  OpenFailureLog once;
  REQUIRE(once.failed(EAFNOSUPPORT, clock.now()));
  CHECK_FALSE(once.opened(clock.now()));
}

// The udp backend's lines when it cannot open a flow's socket, in virtual
// time: a warning per reason at once, then at most one per 10 s, each with
// the flows refused since the last one (carried across bursts and
// recoveries), and for EMFILE the flows open, the open-file limit and what
// to raise; a line when sockets open again, at most one per 10 s too.

#include "plugins/udp/open_failure_log.hpp"

#include <warren/sdk/testing.hpp>

#include <catch2/catch.hpp>

#include <cerrno>
#include <limits>

using namespace warren;
using namespace warren::udp;
using namespace std::chrono_literals;
using sdk::testing::ManualClock;

namespace {

constexpr auto emfile_advice =
    "each flow holds a descriptor: raise the connector's open-file limit (ulimit -n, or LimitNOFILE= in its systemd "
    "unit; warren raises its soft limit to the hard one at start), or lower max_flows of the tunnel at the edge";

const DescriptorUse at_limit{.soft_limit = 1024, .hard_limit = 4096, .flows_open = 1017};

}  // namespace

TEST_CASE("out of descriptors: a warning with the limit, the flows open and what to raise, then one per 10 s") {
  ManualClock clock;
  OpenFailureLog log;
  auto first = log.failed(EMFILE, clock.now(), at_limit);
  REQUIRE(first);
  CHECK(first->level == sdk::LogLevel::warn);
  CHECK(first->text == std::string("cannot open a UDP socket for a new flow: Too many open files (1017 flows open, "
                                   "open-file limit 1024, hard limit 4096); 1 flow refused; ") +
                           emfile_advice);
  for (int i = 0; i < 99; ++i) {
    clock.advance(50ms);
    CHECK_FALSE(log.failed(EMFILE, clock.now(), at_limit));  // 4.95 s of failures: held back
  }
  // The system's table full is another reason: a line of its own at once.
  auto system = log.failed(ENFILE, clock.now());
  REQUIRE(system);
  CHECK(system->text ==
        "cannot open a UDP socket for a new flow: Too many open files in system; 1 flow refused; the whole system is "
        "out of open files: raise fs.file-max, or find the process that holds them");
  clock.advance(5050ms);
  const DescriptorUse unlimited{
      .soft_limit = 1024, .hard_limit = std::numeric_limits<std::uint64_t>::max(), .flows_open = 1};
  auto summary = log.failed(EMFILE, clock.now(), unlimited);
  REQUIRE(summary);
  CHECK(summary->level == sdk::LogLevel::warn);
  CHECK(summary->text == std::string("cannot open a UDP socket for a new flow: Too many open files (1 flow open, "
                                     "open-file limit 1024, hard limit unlimited); 100 flows refused in the last "
                                     "10 s; ") +
                             emfile_advice);
}

TEST_CASE("out of descriptors in bursts: refusals held back are carried across a recovery into the next line") {
  ManualClock clock;
  OpenFailureLog log;
  REQUIRE(log.failed(EMFILE, clock.now(), at_limit));
  // A burst: 19 more refused, then a flow ends and the next one opens, again and again (churn at the limit).
  for (int i = 0; i < 19; ++i) {
    clock.advance(100ms);
    CHECK_FALSE(log.failed(EMFILE, clock.now(), at_limit));
    CHECK_FALSE(log.opened(clock.now()));  // within 10 s of the warning: no line either way
  }
  // The next burst, 12 s after the warning: one line with every refusal since it.
  clock.advance(10100ms);
  auto next = log.failed(EMFILE, clock.now(), at_limit);
  REQUIRE(next);
  CHECK_THAT(next->text, Catch::Contains("; 20 flows refused in the last 12 s; "));
  // Quiet for 10 s but for 3 refusals, then sockets open: one info line counts them.
  clock.advance(1s);
  for (int i = 0; i < 3; ++i) CHECK_FALSE(log.failed(EMFILE, clock.now(), at_limit));
  clock.advance(9s);
  auto back = log.opened(clock.now());
  REQUIRE(back);
  CHECK(back->level == sdk::LogLevel::info);
  CHECK(back->text == "UDP sockets for new flows open again; 3 flows refused in the last 10 s");
  CHECK_FALSE(log.opened(clock.now()));  // nothing held back any more
  // The line just said resets the 10 s: the next refusal waits for its own line.
  clock.advance(1s);
  CHECK_FALSE(log.failed(EMFILE, clock.now(), at_limit));
}

TEST_CASE("one failure, then a socket that opens: the failure was said in full, no line") {
  ManualClock clock;
  OpenFailureLog once;
  REQUIRE(once.failed(EAFNOSUPPORT, clock.now()));
  clock.advance(30s);
  CHECK_FALSE(once.opened(clock.now()));
}

TEST_CASE("the open-file limit is read without a descriptor, with the flows open given") {
  auto use = descriptor_use(7);
  CHECK(use.soft_limit > 0);
  CHECK(use.hard_limit >= use.soft_limit);
  CHECK(use.flows_open == 7);
}

// The idle deadline in virtual time: activity pushes it back, silence for
// the whole timeout expires it, and zero turns it off.

#include "core/splice/idle_deadline.hpp"

#include <catch2/catch.hpp>

using namespace warren;
using namespace warren::core;
using namespace std::chrono_literals;

TEST_CASE("an idle deadline expires only after a whole timeout without activity") {
  sdk::TimePoint t0{};
  IdleDeadline idle(5min, t0);
  REQUIRE(idle.enabled());
  CHECK(idle.check(t0) == t0 + 5min);
  CHECK(idle.check(t0 + 4min) == t0 + 5min);
  idle.activity(t0 + 4min);  // bytes moved: the next check is later
  CHECK(idle.check(t0 + 5min) == t0 + 9min);
  CHECK(idle.check(t0 + 9min - 1ns).has_value());
  CHECK_FALSE(idle.check(t0 + 9min).has_value());
}

TEST_CASE("a zero idle timeout never expires") {
  sdk::TimePoint t0{};
  IdleDeadline idle(sdk::Duration::zero(), t0);
  CHECK_FALSE(idle.enabled());
  CHECK(idle.check(t0 + 24h).has_value());
}

// The registration throttle in virtual time: per-source attempt rate,
// per-tunnel rate of authenticated registrations, failed credentials backed
// off per source and per tunnel id, one log line per source per interval,
// and memory that empties once the buckets refill.

#include "core/edge/registration_admission.hpp"

#include <catch2/catch.hpp>

using namespace warren;
using namespace warren::core;
using namespace std::chrono_literals;

namespace {

SourceKey source(const char* text) { return SourceKey::of(boost::asio::ip::make_address(text)); }

RegistrationLimits small_limits() {
  RegistrationLimits limits;
  limits.rate_per_source = 10;
  limits.burst_per_source = 5;
  limits.rate_per_tunnel = 2;
  limits.burst_per_tunnel = 4;
  limits.auth_failures_per_source = 3;
  limits.auth_failure_interval = 5s;
  limits.auth_failures_per_tunnel = 6;
  limits.auth_failure_interval_per_tunnel = 1s;
  limits.log_interval = 10s;
  return limits;
}

}  // namespace

TEST_CASE("registration attempts of a source are a token bucket, refused ones count, and another source is free") {
  RegistrationAdmission admission(small_limits());
  sdk::TimePoint t0{};
  auto a = source("192.0.2.1");
  for (int i = 0; i < 5; ++i) CHECK(admission.check(a, "web", t0).admitted());
  auto refused = admission.check(a, "web", t0);
  CHECK(refused.throttle == RegistrationThrottle::source_rate);
  CHECK(refused.retry_after == 1s);  // never under a second, though a token comes in 100 ms
  CHECK(admission.check(a, "web", t0 + 50ms).throttle == RegistrationThrottle::source_rate);
  CHECK(admission.check(a, "web", t0 + 110ms).admitted());
  CHECK(admission.check(source("192.0.2.2"), "web", t0 + 110ms).admitted());
}

TEST_CASE("a real connector with 4 legs reconnecting every second is never throttled by the defaults") {
  RegistrationAdmission admission(RegistrationLimits{});
  auto a = source("192.0.2.1");
  sdk::TimePoint t{};
  for (int round = 0; round < 600; ++round, t += 1s)
    for (int leg = 0; leg < 4; ++leg) {
      REQUIRE(admission.check(a, "web", t).admitted());
      admission.authenticated("web", t);
    }
}

TEST_CASE("a tunnel's authenticated registrations are limited, and wrong credentials never drain that bucket") {
  RegistrationAdmission admission(small_limits());
  sdk::TimePoint t0{};
  auto owner = source("192.0.2.1");
  auto guesser = source("198.51.100.7");
  // Wrong tokens for "web" from the guesser take nothing from the tunnel's rate.
  for (int i = 0; i < 3; ++i) {
    REQUIRE(admission.check(guesser, "web", t0).admitted());
    admission.failed(guesser, "web", t0);
  }
  for (int i = 0; i < 4; ++i) {
    REQUIRE(admission.check(owner, "web", t0 + 1ms).admitted());
    admission.authenticated("web", t0 + 1ms);
  }
  auto refused = admission.check(owner, "web", t0 + 1ms);
  CHECK(refused.throttle == RegistrationThrottle::tunnel_rate);
  CHECK(refused.retry_after == 1s);
  // 2 per second: a token every 500 ms.
  CHECK(admission.check(owner, "web", t0 + 400ms).throttle == RegistrationThrottle::tunnel_rate);
  CHECK(admission.check(owner, "web", t0 + 600ms).admitted());
  // Another tunnel is not affected.
  CHECK(admission.check(owner, "api", t0 + 600ms).admitted());
}

TEST_CASE("wrong credentials back a source off: refused before the check, one more try per interval") {
  RegistrationAdmission admission(small_limits());
  sdk::TimePoint t0{};
  auto guesser = source("198.51.100.7");
  for (int i = 0; i < 3; ++i) {
    REQUIRE(admission.check(guesser, "web", t0 + i * 200ms).admitted());
    admission.failed(guesser, "web", t0 + i * 200ms);
  }
  auto refused = admission.check(guesser, "web", t0 + 600ms);
  CHECK(refused.throttle == RegistrationThrottle::source_auth_failures);
  // 0.2 tokens per second: 0.12 left of the burst plus what came back.
  CHECK(refused.retry_after == 4400ms);
  CHECK(admission.check(guesser, "web", t0 + 4s).throttle == RegistrationThrottle::source_auth_failures);
  CHECK(admission.check(guesser, "web", t0 + 5100ms).admitted());
  admission.failed(guesser, "web", t0 + 5100ms);
  CHECK(admission.check(guesser, "web", t0 + 5110ms).throttle == RegistrationThrottle::source_auth_failures);
  // Over a minute of constant guessing the source gets about 60 / 5 tries.
  int tries = 0;
  for (auto t = t0 + 6s; t < t0 + 66s; t += 50ms)
    if (admission.check(guesser, "web", t).admitted()) {
      ++tries;
      admission.failed(guesser, "web", t);
    }
  CHECK(tries >= 11);
  CHECK(tries <= 13);
  // A connector from another source registers at once.
  CHECK(admission.check(source("192.0.2.1"), "web", t0 + 66s).admitted());
}

TEST_CASE("a tunnel id guessed at from many sources slows the sources that failed, never a clean one") {
  RegistrationAdmission admission(small_limits());
  sdk::TimePoint t0{};
  // Six sources, one wrong token each: the tunnel's failure bucket is empty.
  for (int i = 0; i < 6; ++i) {
    auto s = SourceKey::of(boost::asio::ip::make_address_v4(0xC6336400u + i));  // 198.51.100.i
    REQUIRE(admission.check(s, "web", t0).admitted());
    admission.failed(s, "web", t0);
  }
  auto repeat = admission.check(SourceKey::of(boost::asio::ip::make_address_v4(0xC6336400u)), "web", t0 + 10ms);
  CHECK(repeat.throttle == RegistrationThrottle::tunnel_auth_failures);
  CHECK(admission.check(source("192.0.2.1"), "web", t0 + 10ms).admitted());    // the owner, elsewhere
  CHECK(admission.check(source("203.0.113.9"), "web", t0 + 10ms).admitted());  // a first try
  // Another tunnel id is not affected for the failed sources.
  CHECK(admission.check(SourceKey::of(boost::asio::ip::make_address_v4(0xC6336401u)), "api", t0 + 10ms).admitted());
}

TEST_CASE("refusals and failures are logged once per source per interval with their counts") {
  RegistrationAdmission admission(small_limits());
  sdk::TimePoint t0{};
  auto guesser = source("198.51.100.7");
  REQUIRE(admission.check(guesser, "web", t0).admitted());
  auto first = admission.failed(guesser, "web", t0);
  CHECK(first.log);
  CHECK(first.failures == 1);
  int lines = 0;
  // Failures at 7 and 17 ms spend the burst; the next try passes at 5.007 s.
  for (auto t = t0 + 7ms; t < t0 + 9s; t += 10ms) {
    auto d = admission.check(guesser, "web", t);
    lines += d.log.log;
    if (d.admitted()) lines += admission.failed(guesser, "web", t).log;
  }
  CHECK(lines == 0);
  auto later = admission.failed(guesser, "web", t0 + 10s);
  REQUIRE(later.log);
  CHECK(later.failures == 4);     // three in the loop, and this one
  CHECK(later.throttled == 897);  // every other attempt of the 900
}

TEST_CASE("sources and tunnel ids are forgotten once their buckets are full, and unknown ids cost nothing") {
  RegistrationAdmission admission(small_limits());
  sdk::TimePoint t0{};
  for (std::uint32_t i = 0; i < 100; ++i) {
    auto s = SourceKey::of(boost::asio::ip::make_address_v4(0xC6336400u + i));
    REQUIRE(admission.check(s, "made-up-" + std::to_string(i), t0).admitted());
  }
  CHECK(admission.tracked_sources() == 100);
  CHECK(admission.tracked_tunnels() == 0);  // check() only looks ids up
  admission.failed(source("198.51.100.7"), "web", t0);
  CHECK(admission.tracked_tunnels() == 1);
  // All refilled by then (and the logged source's interval over).
  admission.check(source("192.0.2.1"), "web", t0 + 20s);
  CHECK(admission.tracked_sources() == 1);
  CHECK(admission.tracked_tunnels() == 0);
}

// The answer cache in virtual time: TTL clamped to [min_ttl, max_ttl], then
// stale for max_stale past the TTL, then expired.

#include "discovery/dns-srv/answer_cache.hpp"

#include <warren/sdk/testing.hpp>

#include <catch2/catch.hpp>

using namespace warren;
using namespace std::chrono_literals;
using dns_srv::Freshness;

namespace {

std::vector<dns_srv::ResolvedTarget> one_target() {
  return {{{"edge1.example.test", 7844, 0, 10}, {boost::asio::ip::make_address("127.0.0.1")}}};
}

}  // namespace

TEST_CASE("answer cache is fresh for the TTL, stale for max_stale after it, then expired") {
  sdk::testing::ManualClock clock;
  dns_srv::AnswerCache cache({.min_ttl = 1s, .max_ttl = 1min, .max_stale = 10s});
  CHECK(cache.freshness(clock.now()) == Freshness::none);
  CHECK(cache.usable(clock.now()) == nullptr);
  CHECK(cache.store(one_target(), 30s, clock.now()) == 30s);
  CHECK(cache.freshness(clock.now()) == Freshness::fresh);
  clock.advance(30s - 1ns);
  CHECK(cache.freshness(clock.now()) == Freshness::fresh);
  clock.advance(1ns);
  CHECK(cache.freshness(clock.now()) == Freshness::stale);
  REQUIRE(cache.usable(clock.now()));
  CHECK(*cache.usable(clock.now()) == one_target());
  clock.advance(10s - 1ns);
  CHECK(cache.freshness(clock.now()) == Freshness::stale);
  clock.advance(1ns);
  CHECK(cache.freshness(clock.now()) == Freshness::expired);
  CHECK(cache.usable(clock.now()) == nullptr);
}

TEST_CASE("answer cache clamps the DNS TTL to min_ttl and max_ttl") {
  sdk::testing::ManualClock clock;
  dns_srv::AnswerCache cache({.min_ttl = 5s, .max_ttl = 1min, .max_stale = 0s});
  CHECK(cache.store(one_target(), 0s, clock.now()) == 5s);
  CHECK(cache.expires_at() == clock.now() + 5s);
  CHECK(cache.store(one_target(), 24h, clock.now()) == 1min);
  clock.advance(1min);
  CHECK(cache.freshness(clock.now()) == Freshness::expired);  // max_stale 0: never served stale
}

TEST_CASE("answer cache forgets an answer the DNS withdrew") {
  sdk::testing::ManualClock clock;
  dns_srv::AnswerCache cache({});
  cache.store(one_target(), 30s, clock.now());
  REQUIRE(cache.fetched_at() == clock.now());
  cache.forget();
  CHECK(cache.freshness(clock.now()) == Freshness::none);
  CHECK_FALSE(cache.fetched_at());
}

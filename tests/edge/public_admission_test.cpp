// The public admission engine in virtual time: per-source connection and
// rate limits, per-tunnel and global stream caps, IPv6 sources by /64, and
// refusal logging once per source per interval.

#include "core/edge/public_admission.hpp"

#include <catch2/catch.hpp>

using namespace warren;
using namespace warren::core;
using namespace std::chrono_literals;

namespace {

SourceKey source(const char* text) { return SourceKey::of(boost::asio::ip::make_address(text)); }

PublicLimits small_limits() {
  PublicLimits limits;
  limits.max_connections_per_source = 3;
  limits.max_connection_rate_per_source = 10;
  limits.connection_burst_per_source = 5;
  limits.max_streams_per_tunnel = 6;
  limits.max_streams_total = 8;
  limits.log_interval = 10s;
  return limits;
}

}  // namespace

TEST_CASE("a source may hold only its share of connections and gets them back on release") {
  PublicAdmission admission(small_limits());
  sdk::TimePoint t0{};
  auto a = source("192.0.2.1");
  for (int i = 0; i < 3; ++i) CHECK(admission.admit(a, "web", t0).admitted());
  auto refused = admission.admit(a, "web", t0);
  CHECK(refused.refusal == PublicRefusal::source_limit);
  // Another source is not affected.
  CHECK(admission.admit(source("192.0.2.2"), "web", t0).admitted());
  admission.release(a, "web");
  CHECK(admission.connections_of(a) == 2);
  CHECK(admission.admit(a, "web", t0 + 1s).admitted());
}

TEST_CASE("the connection rate of a source is a token bucket, and attempts count even when refused") {
  auto limits = small_limits();
  limits.max_connections_per_source = 1000;
  limits.max_streams_per_tunnel = 1000;
  limits.max_streams_total = 1000;
  PublicAdmission admission(limits);
  sdk::TimePoint t0{};
  auto a = source("192.0.2.1");
  for (int i = 0; i < 5; ++i) CHECK(admission.admit(a, "web", t0).admitted());  // the burst
  CHECK(admission.admit(a, "web", t0).refusal == PublicRefusal::source_rate);
  // 10 per second: one token every 100 ms.
  CHECK(admission.admit(a, "web", t0 + 50ms).refusal == PublicRefusal::source_rate);
  CHECK(admission.admit(a, "web", t0 + 110ms).admitted());
  CHECK(admission.admit(a, "web", t0 + 120ms).refusal == PublicRefusal::source_rate);
  // A flooder that keeps trying keeps its bucket empty.
  auto t = t0 + 120ms;
  int admitted = 0;
  for (int i = 0; i < 1000; ++i, t += 1ms) admitted += admission.admit(a, "web", t).admitted();
  CHECK(admitted == 10);  // 1 s of attempts at 1000/s: the rate, no more
  CHECK(admission.admit(source("192.0.2.9"), "web", t).admitted());
}

TEST_CASE("per-tunnel and global stream caps hold across sources") {
  PublicAdmission admission(small_limits());
  sdk::TimePoint t0{};
  const char* sources[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"};
  int web = 0;
  for (auto* s : sources)
    for (int i = 0; i < 2; ++i) web += admission.admit(source(s), "web", t0).admitted();
  CHECK(web == 6);
  CHECK(admission.admit(source("10.0.0.9"), "web", t0).refusal == PublicRefusal::tunnel_limit);
  CHECK(admission.admit(source("10.0.0.9"), "ssh", t0).admitted());
  CHECK(admission.admit(source("10.0.0.9"), "ssh", t0).admitted());
  CHECK(admission.streams_total() == 8);
  CHECK(admission.admit(source("10.0.0.8"), "db", t0).refusal == PublicRefusal::total_limit);
  admission.release(source("10.0.0.9"), "ssh");
  CHECK(admission.admit(source("10.0.0.8"), "db", t0).admitted());
}

TEST_CASE("IPv6 sources are grouped by /64 and IPv4-mapped addresses count as IPv4") {
  CHECK(source("2001:db8:1:2::1") == source("2001:db8:1:2:ffff::9"));
  CHECK_FALSE(source("2001:db8:1:2::1") == source("2001:db8:1:3::1"));
  CHECK(source("::ffff:192.0.2.1") == source("192.0.2.1"));
  CHECK(source("2001:db8:1:2::1").to_string() == "2001:db8:1:2::/64");
  CHECK(source("192.0.2.1").to_string() == "192.0.2.1");
  PublicAdmission admission(small_limits());
  sdk::TimePoint t0{};
  for (int i = 0; i < 3; ++i) CHECK(admission.admit(source("2001:db8::1"), "web", t0).admitted());
  CHECK(admission.admit(source("2001:db8::2"), "web", t0).refusal == PublicRefusal::source_limit);
}

TEST_CASE("refusals are logged once per source per interval, with a count of those not logged") {
  PublicAdmission admission(small_limits());
  sdk::TimePoint t0{};
  auto a = source("192.0.2.1");
  for (int i = 0; i < 3; ++i) REQUIRE(admission.admit(a, "web", t0).admitted());
  auto first = admission.admit(a, "web", t0);
  CHECK(first.log);
  CHECK(first.suppressed == 0);
  CHECK_FALSE(admission.admit(a, "web", t0 + 1s).log);
  CHECK_FALSE(admission.admit(a, "web", t0 + 2s).log);
  // Another source has its own line.
  for (int i = 0; i < 3; ++i) REQUIRE(admission.admit(source("192.0.2.2"), "web", t0).admitted());
  CHECK(admission.admit(source("192.0.2.2"), "web", t0 + 2s).log);
  auto later = admission.admit(a, "web", t0 + 10s);
  CHECK(later.log);
  CHECK(later.suppressed == 2);
}

TEST_CASE("a connection admitted but not forwarded frees its slots and is refused with the true reason") {
  PublicAdmission admission(small_limits());
  sdk::TimePoint t0{};
  auto a = source("192.0.2.1");
  REQUIRE(admission.admit(a, "web", t0).admitted());
  auto d = admission.refuse_admitted(a, "web", PublicRefusal::no_live_leg, t0);
  CHECK(d.refusal == PublicRefusal::no_live_leg);
  CHECK(d.log);
  CHECK(admission.connections_of(a) == 0);
  CHECK(admission.streams_total() == 0);
}

TEST_CASE("sources that hold nothing are forgotten once their bucket refilled, so memory stays bounded") {
  PublicAdmission admission(small_limits());
  sdk::TimePoint t = {};
  t += 1h;
  for (int i = 0; i < 1000; ++i) {
    auto s = SourceKey::of(boost::asio::ip::address_v4(0x0a000000u + static_cast<unsigned>(i)));
    REQUIRE(admission.admit(s, "web", t).admitted());
    admission.release(s, "web");
  }
  CHECK(admission.tracked_sources() == 1000);
  // Burst 5 at 10/s refills in 0.5 s; the sweep runs at most once a second.
  admission.admit(source("192.0.2.1"), "web", t + 2s);
  CHECK(admission.tracked_sources() == 1);
  auto held = source("192.0.2.1");
  admission.admit(source("192.0.2.7"), "web", t + 4s);
  CHECK(admission.connections_of(held) == 1);  // still holding one: kept
}

TEST_CASE("every refusal has a stable metric name and a sentence naming its key") {
  PublicLimits limits;
  for (auto reason : all_public_refusals) {
    CHECK_FALSE(refusal_name(reason).empty());
    CHECK(refusal_name(reason).find(' ') == std::string_view::npos);
  }
  CHECK(refusal_name(PublicRefusal::source_limit) == "source_limit");
  CHECK_THAT(refusal_sentence(PublicRefusal::source_limit, limits), Catch::Contains("max_connections_per_source"));
  CHECK_THAT(refusal_sentence(PublicRefusal::source_rate, limits), Catch::Contains("max_connection_rate_per_source"));
  CHECK_THAT(refusal_sentence(PublicRefusal::total_limit, limits), Catch::Contains("max_streams_total"));
}

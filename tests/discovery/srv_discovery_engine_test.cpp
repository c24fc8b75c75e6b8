// The dns-srv engine in virtual time: what it asks, what it serves, what it
// says, and which error it completes with, for exact sequences of outcomes.

#include "discovery/dns-srv/srv_discovery_engine.hpp"

#include <warren/sdk/testing.hpp>

#include <catch2/catch.hpp>

using namespace warren;
using namespace std::chrono_literals;
using dns_srv::NameLookup;
using dns_srv::Outcome;
using dns_srv::TargetLookup;

namespace {

constexpr const char* kName = "_warren._udp.example.test";
constexpr const char* kResolver = "127.0.0.1:5353";

TargetLookup target(std::string name, std::uint16_t priority, std::vector<std::string> addresses,
                    sdk::Duration ttl = 1h) {
  TargetLookup t;
  t.srv = {std::move(name), 7844, priority, 10};
  for (const auto& a : addresses) t.addresses.push_back(boost::asio::ip::make_address(a));
  t.ttl = ttl;
  if (t.addresses.empty()) {
    t.outcome = Outcome::no_records;
    t.detail = "no address record: A: NXDOMAIN";
  }
  return t;
}

NameLookup answer(std::vector<TargetLookup> targets, sdk::Duration ttl) {
  NameLookup n;
  n.srv_ttl = ttl;
  n.targets = std::move(targets);
  return n;
}

NameLookup failure(Outcome outcome, std::string detail) {
  NameLookup n;
  n.outcome = outcome;
  n.detail = std::move(detail);
  return n;
}

std::vector<std::string> addresses(const dns_srv::ResolveResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.edges) out.push_back(e.to_string());
  return out;
}

std::vector<std::string> lines(dns_srv::SrvDiscoveryEngine& engine, sdk::LogLevel level) {
  std::vector<std::string> out;
  for (auto& l : engine.take_log())
    if (l.level == level) out.push_back(l.text);
  return out;
}

struct Fixture {
  sdk::testing::ManualClock clock;
  sdk::SeededRandom random{1};
  dns_srv::SrvDiscoveryEngine engine{{kName}, {.min_ttl = 1s, .max_ttl = 1min, .max_stale = 10s}, kResolver, false};

  dns_srv::ResolveResult round(NameLookup lookup) {
    REQUIRE(engine.names_to_look_up(clock.now()) == std::vector<std::size_t>{0});
    engine.handle_lookup(0, std::move(lookup), clock.now());
    return engine.result(clock.now(), random);
  }
};

}  // namespace

TEST_CASE("dns-srv engine asks again only once the answer's TTL is over") {
  Fixture f;
  auto r = f.round(answer({target("edge1.example.test", 0, {"127.0.0.1"})}, 5s));
  CHECK(addresses(r) == std::vector<std::string>{"127.0.0.1:7844"});
  f.clock.advance(5s - 1ns);
  CHECK(f.engine.names_to_look_up(f.clock.now()).empty());
  CHECK(addresses(f.engine.result(f.clock.now(), f.random)) == std::vector<std::string>{"127.0.0.1:7844"});
  f.clock.advance(1ns);
  CHECK(f.engine.names_to_look_up(f.clock.now()) == std::vector<std::size_t>{0});
}

TEST_CASE("dns-srv engine keeps the shortest TTL of the SRV and address records") {
  Fixture f;
  f.round(
      answer({target("a.example.test", 0, {"127.0.0.1"}, 20s), target("b.example.test", 0, {"127.0.0.2"}, 40s)}, 30s));
  f.clock.advance(20s);
  CHECK(f.engine.names_to_look_up(f.clock.now()) == std::vector<std::size_t>{0});
}

TEST_CASE("dns-srv engine serves the stale answer with one warning, then fails after max_stale") {
  Fixture f;
  f.round(answer({target("edge1.example.test", 0, {"127.0.0.1"})}, 5s));
  CHECK(lines(f.engine, sdk::LogLevel::info).size() == 1);

  f.clock.advance(5s);  // TTL over; the resolver is down
  auto stale = f.round(failure(Outcome::could_not_ask, "timeout"));
  CHECK_FALSE(stale.error);
  CHECK(addresses(stale) == std::vector<std::string>{"127.0.0.1:7844"});
  auto warnings = lines(f.engine, sdk::LogLevel::warn);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == std::string(kName) + ": no answer from resolver " + kResolver +
                           " (timeout); serving the answer from 5 s ago, for at most 10 s more (max_stale)");

  f.clock.advance(10s - 1ms);  // still within max_stale: served, nothing said again
  CHECK(addresses(f.round(failure(Outcome::could_not_ask, "timeout"))) == std::vector<std::string>{"127.0.0.1:7844"});
  CHECK(lines(f.engine, sdk::LogLevel::warn).empty());

  f.clock.advance(1ms);  // 10 s past the TTL: nothing left to serve
  auto failed = f.round(failure(Outcome::could_not_ask, "timeout"));
  CHECK(failed.edges.empty());
  CHECK(failed.error == sdk::make_error_code(sdk::errc::discovery_failed));
  CHECK(failed.why == std::string(kName) + ": no answer from resolver " + kResolver +
                          " (timeout); the last answer is more than max_stale (10 s) past its TTL");
  warnings = lines(f.engine, sdk::LogLevel::warn);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == "no edges from DNS (discovery_failed): " + failed.why);

  f.clock.advance(1s);  // the same failure again: said at debug level only
  CHECK(f.round(failure(Outcome::could_not_ask, "timeout")).error == sdk::errc::discovery_failed);
  CHECK(lines(f.engine, sdk::LogLevel::warn).empty());

  // The resolver is back; a later failure is a new episode, warned again.
  CHECK(addresses(f.round(answer({target("edge2.example.test", 0, {"127.0.0.2"})}, 5s))) ==
        std::vector<std::string>{"127.0.0.2:7844"});
  f.clock.advance(5s);
  f.round(failure(Outcome::could_not_ask, "connection refused"));
  CHECK(lines(f.engine, sdk::LogLevel::warn).size() == 1);
}

TEST_CASE("dns-srv engine completes with no_edges on NXDOMAIN and drops the old answer") {
  Fixture f;
  f.round(answer({target("edge1.example.test", 0, {"127.0.0.1"})}, 5s));
  f.clock.advance(5s);
  auto r = f.round(failure(Outcome::no_records, "NXDOMAIN"));
  CHECK(r.edges.empty());
  CHECK(r.error == sdk::make_error_code(sdk::errc::no_edges));
  CHECK(r.why == std::string(kName) + ": no SRV records at resolver " + kResolver + " (NXDOMAIN)");
  CHECK_FALSE(r.use_fallback);
  CHECK(f.engine.cache(0).freshness(f.clock.now()) == dns_srv::Freshness::none);
}

TEST_CASE("dns-srv engine skips a target with no address and says which, once") {
  Fixture f;
  auto r = f.round(answer({target("good.example.test", 0, {"127.0.0.1"}), target("bare.example.test", 0, {})}, 5s));
  CHECK(addresses(r) == std::vector<std::string>{"127.0.0.1:7844"});
  auto warnings = lines(f.engine, sdk::LogLevel::warn);
  CHECK(warnings == std::vector<std::string>{std::string(kName) + ": skipped targets with no address at resolver " +
                                             kResolver + ": bare.example.test (no address record: A: NXDOMAIN)"});
  f.clock.advance(5s);
  f.round(answer({target("good.example.test", 0, {"127.0.0.1"}), target("bare.example.test", 0, {})}, 5s));
  CHECK(lines(f.engine, sdk::LogLevel::warn).empty());

  f.clock.advance(5s);  // only the bare target left: nothing to offer
  auto none = f.round(answer({target("bare.example.test", 0, {})}, 5s));
  CHECK(none.error == sdk::make_error_code(sdk::errc::no_edges));
}

TEST_CASE("dns-srv engine interleaves regions and tags every edge with its SRV name") {
  sdk::testing::ManualClock clock;
  sdk::SeededRandom random(3);
  dns_srv::SrvDiscoveryEngine engine({"_a.example.test", "_b.example.test"}, {}, kResolver, false);
  REQUIRE(engine.names_to_look_up(clock.now()) == std::vector<std::size_t>{0, 1});
  engine.handle_lookup(
      0, answer({target("a2.example.test", 2, {"127.0.0.2"}), target("a1.example.test", 1, {"127.0.0.1"})}, 30s),
      clock.now());
  engine.handle_lookup(1, answer({target("b1.example.test", 1, {"127.0.1.1", "::1"})}, 30s), clock.now());
  auto r = engine.result(clock.now(), random);
  CHECK(addresses(r) == std::vector<std::string>{"127.0.0.1:7844", "127.0.1.1:7844", "127.0.0.2:7844", "[::1]:7844"});
  REQUIRE(r.edges.size() == 4);
  CHECK(r.edges[0].region == "_a.example.test");
  CHECK(r.edges[0].host == "a1.example.test");
  CHECK(r.edges[0].priority == 1);
  CHECK(r.edges[0].weight == 10);
  CHECK(r.edges[1].region == "_b.example.test");
  CHECK(r.edges[3].region == "_b.example.test");
  CHECK(r.edges[3].host == "b1.example.test");
}

TEST_CASE("dns-srv engine errors: discovery_failed when any name could not be asked, else no_edges") {
  sdk::testing::ManualClock clock;
  sdk::SeededRandom random(3);
  dns_srv::SrvDiscoveryEngine engine({"_a.example.test", "_b.example.test"}, {}, kResolver, false);
  engine.handle_lookup(0, failure(Outcome::no_records, "NXDOMAIN"), clock.now());
  engine.handle_lookup(1, failure(Outcome::could_not_ask, "SERVFAIL"), clock.now());
  auto r = engine.result(clock.now(), random);
  CHECK(r.error == sdk::make_error_code(sdk::errc::discovery_failed));
  CHECK(r.why == std::string("_a.example.test: no SRV records at resolver ") + kResolver +
                     " (NXDOMAIN); _b.example.test: no answer from resolver " + kResolver + " (SERVFAIL)");
  engine.handle_lookup(0, failure(Outcome::no_records, "NXDOMAIN"), clock.now());
  engine.handle_lookup(1, failure(Outcome::no_records, "no data"), clock.now());
  CHECK(engine.result(clock.now(), random).error == sdk::make_error_code(sdk::errc::no_edges));
}

TEST_CASE("dns-srv engine serves a partial answer only when it has nothing older") {
  Fixture f;
  auto unasked = target("slow.example.test", 0, {});
  unasked.outcome = Outcome::could_not_ask;
  unasked.detail = "A: timeout";
  auto partial = f.round(answer({target("good.example.test", 0, {"127.0.0.1"}), unasked}, 5s));
  CHECK(addresses(partial) == std::vector<std::string>{"127.0.0.1:7844"});
  CHECK(f.engine.cache(0).freshness(f.clock.now()) == dns_srv::Freshness::none);  // not kept: asked again next time

  f.round(answer({target("good.example.test", 0, {"127.0.0.1"}), target("other.example.test", 0, {"127.0.0.2"})}, 5s));
  f.clock.advance(5s);
  auto stale = f.round(answer({target("good.example.test", 0, {"127.0.0.1"}), unasked}, 5s));
  CHECK(stale.edges.size() == 2);  // the whole older answer, not the part
}

TEST_CASE("dns-srv engine turns to the fallback list only when DNS gives nothing") {
  sdk::testing::ManualClock clock;
  sdk::SeededRandom random(3);
  dns_srv::SrvDiscoveryEngine engine({kName}, {}, kResolver, true);
  engine.handle_lookup(0, failure(Outcome::no_records, "NXDOMAIN"), clock.now());
  auto dns = engine.result(clock.now(), random);
  REQUIRE(dns.use_fallback);
  CHECK(lines(engine, sdk::LogLevel::warn) ==
        std::vector<std::string>{"no edges from DNS (no_edges): " + dns.why + "; trying the fallback list"});
  auto fallback = engine.fallback_result(
      dns, {target("127.0.0.9", 0, {"127.0.0.9"}), target("gone.example.test", 1, {}), target("::1", 2, {"::1"})});
  CHECK_FALSE(fallback.error);
  CHECK(addresses(fallback) == std::vector<std::string>{"127.0.0.9:7844", "[::1]:7844"});
  CHECK(fallback.edges[0].region == dns_srv::kFallbackRegion);
  CHECK(fallback.edges[0].priority == 0);
  CHECK(fallback.edges[1].priority == 2);
  CHECK(lines(engine, sdk::LogLevel::warn) ==
        std::vector<std::string>{"fallback entries with no address: gone.example.test:7844 (no address record: A: "
                                 "NXDOMAIN)"});

  auto nothing = engine.fallback_result(dns, {target("gone.example.test", 0, {})});
  CHECK(nothing.error == sdk::make_error_code(sdk::errc::no_edges));
  CHECK(nothing.why == dns.why + "; no fallback entry resolved");
}

TEST_CASE("dns-srv engine names a region that gives nothing while another serves, once") {
  sdk::testing::ManualClock clock;
  sdk::SeededRandom random(3);
  dns_srv::SrvDiscoveryEngine engine({"_a.example.test", "_b.example.test"}, {.min_ttl = 1s, .max_ttl = 1s}, kResolver,
                                     false);
  for (int round = 0; round < 3; ++round) {
    REQUIRE(engine.names_to_look_up(clock.now()) == std::vector<std::size_t>{0, 1});
    engine.handle_lookup(0, answer({target("a1.example.test", 0, {"127.0.0.1"})}, 1s), clock.now());
    engine.handle_lookup(1, failure(Outcome::no_records, "NXDOMAIN"), clock.now());
    auto r = engine.result(clock.now(), random);
    CHECK(addresses(r) == std::vector<std::string>{"127.0.0.1:7844"});
    auto warnings = lines(engine, sdk::LogLevel::warn);
    if (round == 0) {
      CHECK(warnings == std::vector<std::string>{std::string("_b.example.test: no SRV records at resolver ") +
                                                 kResolver + " (NXDOMAIN)"});
    } else {
      CHECK(warnings.empty());
    }
    clock.advance(1s);
  }
}

// The ip-rotation address policy on its own: exact choices for scripted
// legs, errors and clocks (sans-io: nothing here waits).

#include "plugins/ip-rotation/rotation.hpp"

#include <warren/sdk/testing.hpp>

#include <boost/asio/ip/address.hpp>
#include <catch2/catch.hpp>

using namespace warren;
using namespace std::chrono_literals;
using ip_rotation::IpRotationPolicy;
using ip_rotation::RotationConfig;
using sdk::AddressAction;
using sdk::errc;
using sdk::testing::ManualClock;

namespace {

sdk::EdgeAddress edge(const char* ip, std::string region = "") {
  sdk::EdgeAddress a;
  a.address = boost::asio::ip::make_address(ip);
  a.port = 7844;
  a.host = ip;
  a.region = std::move(region);
  return a;
}

const std::vector<sdk::EdgeAddress> three = {edge("10.0.0.1"), edge("10.0.0.2"), edge("10.0.0.3")};
using Taken = std::vector<std::size_t>;

/// One leg's view: its own state, the connector's shared health, a clock.
struct Leg {
  const IpRotationPolicy& policy;
  sdk::AddressHealth& health;
  ManualClock& clock;
  unsigned index = 0;
  sdk::AddressState state;
  sdk::SeededRandom random{7};

  sdk::AddressChoice choose(const std::vector<sdk::EdgeAddress>& addresses, const Taken& taken = {}) {
    return policy.choose(state, health, addresses, index, taken, clock.now(), random);
  }
  std::size_t pick(const std::vector<sdk::EdgeAddress>& addresses, const Taken& taken = {}) {
    return choose(addresses, taken).index;
  }
  AddressAction fail(const std::vector<sdk::EdgeAddress>& addresses, sdk::errc error) {
    return policy.on_error(state, health, addresses.at(*state.current), error, clock.now());
  }
  void connected(const std::vector<sdk::EdgeAddress>& addresses) {
    policy.on_connected(state, health, addresses.at(*state.current), clock.now());
  }
};

}  // namespace

TEST_CASE("ip-rotation: legs take distinct addresses in discovery's order, and stick while they work") {
  IpRotationPolicy policy({});
  sdk::AddressHealth health;
  ManualClock clock;
  Leg leg0{policy, health, clock, 0}, leg1{policy, health, clock, 1}, leg2{policy, health, clock, 2};
  CHECK(leg0.pick(three) == 0);
  CHECK(leg1.pick(three, {0}) == 1);
  CHECK(leg2.pick(three, {0, 1}) == 2);
  leg1.connected(three);
  CHECK(leg1.pick(three, {0, 2}) == 1);  // sticky across reconnects
  CHECK(leg1.pick(three, {0}) == 1);     // even when a lower address is free
  // Its address got taken (another leg was first while this one backed off).
  CHECK(leg1.pick(three, {1}) == 0);
}

TEST_CASE("ip-rotation: a leg prefers a region no other leg uses") {
  IpRotationPolicy policy({});
  sdk::AddressHealth health;
  ManualClock clock;
  std::vector<sdk::EdgeAddress> edges{edge("10.0.0.1", "fra"), edge("10.0.0.2", "fra"), edge("10.0.1.1", "ams"),
                                      edge("10.0.1.2", "ams")};
  Leg leg1{policy, health, clock, 1};
  CHECK(leg1.pick(edges, {0}) == 2);
  Leg leg2{policy, health, clock, 2};
  CHECK(leg2.pick(edges, {0, 2}) == 1);  // both regions used: distinct addresses still
}

TEST_CASE("ip-rotation: errors by class, cloudflared's rules by default") {
  IpRotationPolicy policy({});
  for (auto e : {errc::dial_failed, errc::handshake_timeout, errc::tls_failed, errc::quic_broken, errc::idle_timeout,
                 errc::heartbeat_timeout})
    CHECK(policy.classify(e) == AddressAction::rotate_and_count);
  CHECK(policy.classify(errc::duplicate_registration) == AddressAction::keep);
  CHECK(policy.classify(errc::rate_limited) == AddressAction::keep);
  for (auto e : {errc::peer_closed, errc::protocol_error, errc::tunnel_limit, errc::port_in_use})
    CHECK(policy.classify(e) == AddressAction::rotate);

  RotationConfig mine;
  mine.count_on = {"peer_closed"};
  mine.keep_on = {"tunnel_limit"};
  IpRotationPolicy custom(mine);
  CHECK(custom.classify(errc::peer_closed) == AddressAction::rotate_and_count);
  CHECK(custom.classify(errc::tunnel_limit) == AddressAction::keep);
  CHECK(custom.classify(errc::rate_limited) == AddressAction::rotate);
  CHECK(custom.classify(errc::dial_failed) == AddressAction::rotate);
}

TEST_CASE("ip-rotation: keep retries the address, rotate leaves it without a mark, count marks it for every leg") {
  IpRotationPolicy policy({});
  sdk::AddressHealth health;
  ManualClock clock;
  Leg leg0{policy, health, clock, 0};
  CHECK(leg0.pick(three) == 0);
  CHECK(leg0.fail(three, errc::rate_limited) == AddressAction::keep);
  CHECK(leg0.pick(three) == 0);
  CHECK(leg0.fail(three, errc::peer_closed) == AddressAction::rotate);
  CHECK(leg0.pick(three) == 1);
  CHECK(health.records.empty());
  CHECK(leg0.fail(three, errc::dial_failed) == AddressAction::rotate_and_count);
  REQUIRE(health.records.size() == 1);
  CHECK(health.records[0].address == three[1].address);
  CHECK(health.records[0].failures == 1);
  CHECK(leg0.state.failures_here == 1);
  CHECK(leg0.pick(three) == 0);  // 10.0.0.1 was left without a mark: healthy again
  // A new leg avoids the marked address too.
  Leg leg1{policy, health, clock, 1};
  CHECK(leg1.pick(three, {0}) == 2);
}

TEST_CASE("ip-rotation: a failed address is avoided until give_back_after, then given back") {
  RotationConfig config;
  config.give_back_after = 60s;
  IpRotationPolicy policy(config);
  sdk::AddressHealth health;
  ManualClock clock;
  Leg leg0{policy, health, clock, 0};
  CHECK(leg0.pick(three) == 0);
  CHECK(leg0.fail(three, errc::heartbeat_timeout) == AddressAction::rotate_and_count);
  CHECK(policy.avoided(health, three[0], clock.now()));
  clock.advance(59s);
  CHECK(Leg{policy, health, clock, 1}.pick(three) == 1);
  CHECK(policy.avoided(health, three[0], clock.now()));
  clock.advance(1s);
  CHECK_FALSE(policy.avoided(health, three[0], clock.now()));
  CHECK(Leg{policy, health, clock, 1}.pick(three) == 0);
  CHECK(health.records.empty());  // given back: forgotten

  SECTION("a working address is given back at once") {
    Leg leg{policy, health, clock, 2};
    CHECK(leg.pick(three) == 0);
    CHECK(leg.fail(three, errc::dial_failed) == AddressAction::rotate_and_count);
    leg.state.current = 0;  // say another leg then registered there
    leg.connected(three);
    CHECK_FALSE(policy.avoided(health, three[0], clock.now()));
  }
  SECTION("give_back_after = 0s never avoids") {
    RotationConfig never;
    never.give_back_after = 0s;
    IpRotationPolicy forgetful(never);
    sdk::AddressHealth h;
    Leg leg{forgetful, h, clock, 0};
    CHECK(leg.pick(three) == 0);
    leg.fail(three, errc::dial_failed);
    CHECK(Leg{forgetful, h, clock, 1}.pick(three) == 0);
  }
}

TEST_CASE("ip-rotation: after max_edge_addr_retries counted failures a leg reports a connectivity error") {
  RotationConfig config;
  config.max_edge_addr_retries = 3;
  IpRotationPolicy policy(config);
  sdk::AddressHealth health;
  ManualClock clock;
  Leg leg{policy, health, clock, 0};
  std::vector<bool> reported;
  auto step = [&](sdk::errc e) {
    leg.pick(three);
    leg.fail(three, e);
    reported.push_back(leg.state.connectivity_error);
    clock.advance(1s);
  };
  // Keep and uncounted moves do not count; counted ones on any address do.
  for (auto e : {errc::dial_failed, errc::rate_limited, errc::tls_failed, errc::peer_closed, errc::quic_broken,
                 errc::dial_failed, errc::dial_failed, errc::dial_failed})
    step(e);
  CHECK(reported == std::vector<bool>{false, false, false, false, true, false, false, true});
  // Registering resets the count.
  step(errc::dial_failed);
  step(errc::dial_failed);
  leg.connected(three);
  step(errc::dial_failed);
  step(errc::dial_failed);
  CHECK(reported.back() == false);
  step(errc::dial_failed);
  CHECK(reported.back() == true);
}

TEST_CASE("ip-rotation: when every free address is used up it says so, and takes the one given back soonest") {
  IpRotationPolicy policy({});
  sdk::AddressHealth health;
  ManualClock clock;
  Leg leg{policy, health, clock, 0};
  std::vector<std::size_t> dialed;
  std::vector<bool> exhausted;
  for (int i = 0; i < 6; ++i) {
    auto choice = leg.choose(three);
    dialed.push_back(choice.index);
    exhausted.push_back(choice.exhausted);
    leg.fail(three, errc::dial_failed);
    clock.advance(1s);
  }
  // 1, 2, 3 fresh; then round-robin by oldest failure, flagged each time.
  CHECK(dialed == std::vector<std::size_t>{0, 1, 2, 0, 1, 2});
  CHECK(exhausted == std::vector<bool>{false, false, false, true, true, true});

  SECTION("only when every address is held does a leg share one") {
    sdk::AddressHealth fresh;
    Leg leg2{policy, fresh, clock, 2};
    auto choice = leg2.choose(three, {0, 1, 2});
    CHECK(choice.index == 0);
    CHECK(choice.exhausted);
    // Two legs on two addresses, one just failed: it retries its own
    // (the only free one) rather than share the other leg's.
    std::vector<sdk::EdgeAddress> two{three[0], three[1]};
    Leg leg1{policy, fresh, clock, 1};
    CHECK(leg1.pick(two, {0}) == 1);
    leg1.fail(two, errc::idle_timeout);
    auto again = leg1.choose(two, {0});
    CHECK(again.index == 1);
    CHECK(again.exhausted);
  }
}

TEST_CASE("ip-rotation: an exact run of two legs over four edges in two regions, seeded") {
  // Deterministic: the same inputs give the same choices for any seed.
  RotationConfig config;
  config.give_back_after = 30s;
  IpRotationPolicy policy(config);
  std::vector<sdk::EdgeAddress> edges{edge("10.0.0.1", "fra"), edge("10.0.0.2", "fra"), edge("10.0.1.1", "ams"),
                                      edge("10.0.1.2", "ams")};
  for (std::uint64_t seed : {1u, 2u, 99u}) {
    sdk::AddressHealth health;
    ManualClock clock;
    Leg leg0{policy, health, clock, 0}, leg1{policy, health, clock, 1};
    leg0.random = sdk::SeededRandom(seed);
    leg1.random = sdk::SeededRandom(seed + 1);
    std::vector<std::string> log;
    auto dial = [&](Leg& leg, const Taken& taken) {
      auto c = leg.choose(edges, taken);
      log.push_back("leg" + std::to_string(leg.index) + "->" + edges[c.index].to_string() + (c.exhausted ? "!" : ""));
      return c.index;
    };
    auto a = dial(leg0, {});  // fra-1
    leg0.connected(edges);
    auto b = dial(leg1, {a});  // ams-1: another region
    leg1.fail(edges, errc::dial_failed);
    clock.advance(1s);
    b = dial(leg1, {a});  // ams-2
    leg1.connected(edges);
    leg0.fail(edges, errc::heartbeat_timeout);
    clock.advance(1s);
    a = dial(leg0, {b});  // fra-2 (ams-1 failed 1 s ago; fra is free)
    leg0.fail(edges, errc::dial_failed);
    clock.advance(1s);
    a = dial(leg0, {b});  // all free ones failed: ams-1, failed longest ago
    leg0.fail(edges, errc::dial_failed);
    clock.advance(30s);
    a = dial(leg0, {b});  // 30 s on: fra-1 and fra-2 given back
    CHECK(log == std::vector<std::string>{"leg0->10.0.0.1:7844", "leg1->10.0.1.1:7844", "leg1->10.0.1.2:7844",
                                          "leg0->10.0.0.2:7844", "leg0->10.0.1.1:7844!", "leg0->10.0.0.1:7844"});
    (void)a;
  }
}

TEST_CASE("ip-rotation: the table is validated") {
  using sdk::testing::item;
  using sdk::testing::TableBuilder;
  auto errors = [](const sdk::ConfigTable& t) {
    sdk::Diagnostics d;
    auto c = ip_rotation::rotation_schema().read(t, d);
    std::vector<std::string> out;
    for (const auto& x : d.list()) out.push_back(x.message);
    CHECK(c.has_value() == out.empty());
    return out;
  };
  CHECK(errors(TableBuilder().table()).empty());
  CHECK(errors(TableBuilder().set("max_edge_addr_retries", 0).table()) ==
        std::vector<std::string>{"'max_edge_addr_retries' = 0 is out of range: must be between 1 and 1000"});
  CHECK(errors(TableBuilder().set("count_on", sdk::ConfigValue::Array{item("dial_faild")}).table()) ==
        std::vector<std::string>{"'dial_faild' in 'count_on' is not an error name; did you mean 'dial_failed'?"});
  CHECK(errors(TableBuilder().set("keep_on", sdk::ConfigValue::Array{item("dial_failed")}).table()) ==
        std::vector<std::string>{"'dial_failed' is in both 'count_on' and 'keep_on'; keep it in one"});
  CHECK(errors(TableBuilder().set("give_bak_after", "1m").table()) ==
        std::vector<std::string>{"unknown key 'give_bak_after' in [plugin]; did you mean 'give_back_after'?"});

  sdk::Diagnostics d;
  auto c = ip_rotation::rotation_schema().read(TableBuilder().table(), d);
  REQUIRE(c);
  CHECK(c->max_edge_addr_retries == 8);
  CHECK(c->give_back_after == 1min);
  c = ip_rotation::rotation_schema().read(
      TableBuilder().set("max_edge_addr_retries", 3).set("give_back_after", "5m").table(), d);
  REQUIRE(c);
  CHECK(c->max_edge_addr_retries == 3);
  CHECK(c->give_back_after == 5min);
}

TEST_CASE("ip-rotation: a leg whose edge died shares the live edge after two failures there and not before") {
  // Two edges, two legs: leg 0 on A, leg 1 on B. B dies.
  IpRotationPolicy policy({});
  sdk::AddressHealth health;
  ManualClock clock;
  std::vector<sdk::EdgeAddress> two{edge("10.0.0.1"), edge("10.0.0.2")};
  Leg leg0{policy, health, clock, 0}, leg1{policy, health, clock, 1};
  std::vector<std::string> log;
  auto dial = [&](Leg& leg, const Taken& taken) {
    auto c = leg.choose(two, taken);
    log.push_back("leg" + std::to_string(leg.index) + "->" + two[c.index].to_string() + (c.exhausted ? "!" : ""));
  };
  dial(leg0, {});
  leg0.connected(two);
  dial(leg1, {0});
  leg1.connected(two);
  // B's death: the heartbeat times out, then every dial there fails.
  leg1.fail(two, errc::heartbeat_timeout);
  clock.advance(1s);
  dial(leg1, {0});  // once more on B: it may be restarting
  leg1.fail(two, errc::dial_failed);
  clock.advance(1s);
  dial(leg1, {0});  // B failed twice in a row, A works: share A
  leg1.connected(two);
  CHECK(log == std::vector<std::string>{"leg0->10.0.0.1:7844", "leg1->10.0.0.2:7844", "leg1->10.0.0.2:7844!",
                                        "leg1->10.0.0.1:7844!"});

  SECTION("the shared address must be healthy: when A failed lately too, leg 1 keeps to its own") {
    sdk::AddressHealth other_health;
    Leg a{policy, other_health, clock, 0}, b{policy, other_health, clock, 1};
    log.clear();
    dial(a, {});
    a.connected(two);
    dial(b, {0});
    b.connected(two);
    a.fail(two, errc::heartbeat_timeout);  // A counted against (leg 0 redials it in its turn)
    for (int i = 0; i < 3; ++i) {
      b.fail(two, errc::dial_failed);
      clock.advance(1s);
      dial(b, {0});
    }
    CHECK(log == std::vector<std::string>{"leg0->10.0.0.1:7844", "leg1->10.0.0.2:7844", "leg1->10.0.0.2:7844!",
                                          "leg1->10.0.0.2:7844!", "leg1->10.0.0.2:7844!"});
  }
}

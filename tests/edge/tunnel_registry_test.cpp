// The edge's registry, sans-io: admissions, refusals, ports, stream
// placement across legs, and quick tunnels in virtual time.

#include "registry_fixture.hpp"

#include <algorithm>
#include <set>

using namespace warren;
using namespace warren::core;
using namespace warren::core::test;
using namespace std::chrono_literals;

TEST_CASE("a configured tunnel is admitted with the right token and gets a port") {
  Fixture f;
  auto a = admitted(f.reg(1, "web", "s3cret"));
  CHECK(a.tunnel_id == "web");
  CHECK(a.open_listener);
  CHECK(a.public_port == 20000);  // 20001 is reserved for ssh
  CHECK(a.token.empty());         // configured tunnels are not told their secret
  auto b = admitted(f.reg(2, "web", "s3cret", 1));
  CHECK_FALSE(b.open_listener);  // same tunnel, second leg
  CHECK(b.public_port == 20000);
  CHECK(admitted(f.reg(3, "ssh", "k3y")).public_port == 20001);
}

TEST_CASE("a wrong token and an unknown id get the same fatal refusal") {
  Fixture f;
  auto wrong = rejected(f.reg(1, "web", "guess"));
  auto unknown = rejected(f.reg(2, "nope", "s3cret"));
  CHECK(wrong.code == sdk::errc::auth_failed);
  CHECK(wrong.fatal);
  CHECK(wrong.message == unknown.message);
  CHECK(rejected(f.reg(3, "web", "")).code == sdk::errc::auth_failed);
  CHECK(rejected(f.reg(4, "web", "s3cretX")).code == sdk::errc::auth_failed);
}

TEST_CASE("a duplicate leg index is refused unless it replaces the old one") {
  Fixture f;
  admitted(f.reg(1, "web", "s3cret", 0));
  auto dup = rejected(f.reg(2, "web", "s3cret", 0));
  CHECK(dup.code == sdk::errc::duplicate_registration);
  CHECK_FALSE(dup.fatal);
  CHECK(dup.retry_after > 0ms);
  // A replacement waits while the holder is heard from (another connector's live leg) …
  auto live = rejected(f.reg(3, "web", "s3cret", 0, /*replace=*/true));
  CHECK(live.code == sdk::errc::duplicate_registration);
  CHECK_THAT(live.message, Catch::Contains("held by a live connection"));
  f.clock.advance(1500ms);
  f.registry.heard_from(1, f.clock.now());
  f.clock.advance(1500ms);
  CHECK(rejected(f.reg(3, "web", "s3cret", 0, true)).code == sdk::errc::duplicate_registration);
  // … and evicts it once it has been silent for evict_after (a dead connection).
  f.clock.advance(500ms);
  auto replaced = admitted(f.reg(3, "web", "s3cret", 0, /*replace=*/true));
  CHECK(replaced.replaced == LegId{1});
  CHECK(f.registry.leg_count() == 1);
  CHECK(f.registry.open_stream("web", f.clock.now()) == LegId{3});
}

TEST_CASE("protocol version and index range are checked") {
  Fixture f;
  protocol::RegisterConnection r;
  r.tunnel_id = "web";
  r.token = "s3cret";
  r.protocol_version = 99;
  CHECK(rejected(f.registry.register_leg(1, r, f.clock.now(), f.random)).code == sdk::errc::protocol_version);
  r.protocol_version = 0;
  CHECK(rejected(f.registry.register_leg(1, r, f.clock.now(), f.random)).code == sdk::errc::protocol_version);
  r.protocol_version = protocol::kOldestProtocolVersion;  // connectors of protocol 1 are still served
  admitted(f.registry.register_leg(1, r, f.clock.now(), f.random));
  CHECK(rejected(f.reg(2, "web", "s3cret", 4)).code == sdk::errc::protocol_error);
}

TEST_CASE("streams go round robin over live legs, skipping draining and gone ones") {
  Fixture f;
  f.limits.max_streams_per_tunnel = 100;
  TunnelRegistry registry(f.limits, f.tunnels);
  auto reg = [&](LegId leg, std::uint8_t index) { return f.reg_web(registry, leg, index); };
  admitted(reg(1, 0));
  admitted(reg(2, 1));
  admitted(reg(3, 2));
  std::map<LegId, int> counts;
  for (int i = 0; i < 30; ++i) ++counts[*registry.open_stream("web", f.clock.now())];
  CHECK(counts == std::map<LegId, int>{{1, 10}, {2, 10}, {3, 10}});
  registry.drain_leg(2, f.clock.now());
  registry.remove_leg(3, f.clock.now());
  for (int i = 0; i < 5; ++i) CHECK(registry.open_stream("web", f.clock.now()) == LegId{1});
  registry.remove_leg(1, f.clock.now());
  CHECK_FALSE(registry.open_stream("web", f.clock.now()));  // only a draining leg is left
}

TEST_CASE("new streams avoid a leg gone silent while another leg is heard from") {
  // A killed connector's legs stay registered until their heartbeat timeout;
  // its replacement's legs must get the new streams meanwhile.
  Fixture f;
  f.limits.max_streams_per_tunnel = 100;
  f.limits.evict_after = 2s;
  TunnelRegistry registry(f.limits, f.tunnels);
  auto reg = [&](LegId leg, std::uint8_t index) { return f.reg_web(registry, leg, index); };
  admitted(reg(1, 0));
  admitted(reg(2, 1));
  f.clock.advance(1500ms);
  registry.heard_from(2, f.clock.now());  // leg 1 stops heartbeating
  f.clock.advance(1s);
  for (int i = 0; i < 6; ++i) CHECK(registry.open_stream("web", f.clock.now()) == LegId{2});
  // When every leg is silent, they all take streams again: silence is a
  // hint, the heartbeat timeout is the verdict.
  f.clock.advance(2s);
  std::set<LegId> used;
  for (int i = 0; i < 6; ++i) used.insert(*registry.open_stream("web", f.clock.now()));
  CHECK(used == std::set<LegId>{1, 2});
}

TEST_CASE("the stream limit holds until streams close") {
  Fixture f;
  admitted(f.reg(1, "web", "s3cret"));
  for (int i = 0; i < 3; ++i) CHECK(f.registry.open_stream("web", f.clock.now()));
  CHECK_FALSE(f.registry.open_stream("web", f.clock.now()));
  f.registry.close_stream("web");
  CHECK(f.registry.open_stream("web", f.clock.now()));
}

TEST_CASE("quick tunnels get fresh credentials that later legs reuse, and expire") {
  Fixture f;
  auto first = admitted(f.reg(1, "", "", 0, false, /*quick=*/true));
  CHECK(first.tunnel_id.starts_with("q-"));
  CHECK(first.token.size() == 64);
  auto id = first.tunnel_id;
  auto token = first.token;
  auto second = admitted(f.reg(2, id, token, 1, false, true));
  CHECK(second.tunnel_id == id);
  CHECK(rejected(f.reg(3, id, "forged", 2, false, true)).code == sdk::errc::tunnel_unknown);

  f.registry.remove_leg(1, f.clock.now());
  f.registry.remove_leg(2, f.clock.now());
  CHECK(f.registry.next_expiry() == f.clock.now() + 60s);
  f.clock.advance(59s);
  CHECK(f.registry.expire(f.clock.now()).empty());
  // A reconnect within the ttl keeps the tunnel and its port.
  auto back = admitted(f.reg(4, id, token, 0, true, true));
  CHECK(back.public_port == first.public_port);
  f.registry.remove_leg(4, f.clock.now());
  f.clock.advance(60s);
  CHECK(f.registry.expire(f.clock.now()) == std::vector<std::string>{id});
  auto gone = rejected(f.reg(5, id, token, 0, true, true));
  CHECK(gone.code == sdk::errc::tunnel_unknown);
  CHECK(gone.fatal);
  CHECK_THAT(gone.message, Catch::Contains("no longer exists"));
}

TEST_CASE("a quick tunnel whose legs all unregistered gives its port back at once") {
  // Its credentials lived only in the connector that left: nobody can
  // resume it, so its port must not wait out the ttl (a few clean
  // `warren quick` runs would otherwise use up a small public_ports range).
  Fixture f;
  auto first = admitted(f.reg(1, "", "", 0, false, /*quick=*/true));
  admitted(f.reg(2, first.tunnel_id, first.token, 1, false, true));
  f.registry.drain_leg(1, f.clock.now());
  f.registry.drain_leg(2, f.clock.now());
  f.registry.remove_leg(1, f.clock.now());
  f.registry.remove_leg(2, f.clock.now());
  CHECK(f.registry.next_expiry() <= f.clock.now());
  CHECK(f.registry.expire(f.clock.now()) == std::vector<std::string>{first.tunnel_id});
  auto next = admitted(f.reg(3, "", "", 0, false, true));
  CHECK(next.public_port == first.public_port);
}

TEST_CASE("quick tunnels can be turned off") {
  Fixture f;
  f.limits.quick_tunnels = false;
  TunnelRegistry registry(f.limits, f.tunnels);
  protocol::RegisterConnection r;
  r.quick_tunnel = true;
  auto refusal = rejected(registry.register_leg(1, r, f.clock.now(), f.random));
  CHECK(refusal.code == sdk::errc::auth_failed);
  CHECK(refusal.fatal);
  CHECK_THAT(refusal.message, Catch::Contains("quick tunnels are turned off"));
}

TEST_CASE("when the port range is used up, registration waits with retry_after") {
  Fixture f;  // ports 20000-20002; 20001 belongs to ssh
  admitted(f.reg(1, "", "", 0, false, true));  // 20000
  admitted(f.reg(2, "", "", 0, false, true));  // 20002
  auto full = rejected(f.reg(3, "", "", 0, false, true));
  CHECK(full.code == sdk::errc::port_in_use);
  CHECK_FALSE(full.fatal);
  CHECK(f.registry.tunnels().size() == 4);  // web, ssh and the two quick ones; the refused one left nothing
}

TEST_CASE("a listener that cannot open undoes the admission") {
  Fixture f;
  auto a = admitted(f.reg(1, "web", "s3cret"));
  f.registry.listener_failed("web", 1);
  CHECK(f.registry.leg_count() == 0);
  auto again = admitted(f.reg(2, "web", "s3cret"));
  CHECK(again.open_listener);
  CHECK(again.public_port == a.public_port);
}

TEST_CASE("a draining leg gives up its index: a replacement registers beside it, never evicting it") {
  Fixture f;
  admitted(f.reg(1, "web", "s3cret", 0));
  admitted(f.reg(2, "web", "s3cret", 1));
  f.registry.drain_leg(1, f.clock.now());
  f.registry.drain_leg(2, f.clock.now());
  CHECK_FALSE(f.registry.open_stream("web", f.clock.now()));  // nothing takes new streams
  // The replacement connector's legs, first attempt and reconnect alike.
  auto a = admitted(f.reg(3, "web", "s3cret", 0));
  auto b = admitted(f.reg(4, "web", "s3cret", 1, /*replace=*/true));
  CHECK_FALSE(a.replaced);
  CHECK_FALSE(b.replaced);
  CHECK(f.registry.leg_count() == 4);
  auto view = f.registry.tunnels();
  auto web = std::find_if(view.begin(), view.end(), [](const auto& t) { return t.id == "web"; });
  CHECK(web->legs == 2);
  CHECK(web->draining == 2);
  for (int i = 0; i < 2; ++i) {
    auto leg = f.registry.open_stream("web", f.clock.now());
    CHECK((leg == LegId{3} || leg == LegId{4}));
    f.registry.close_stream("web");
  }
  f.registry.remove_leg(1, f.clock.now());  // the drain ended
  CHECK(f.registry.leg_count() == 3);
}

TEST_CASE("a requested public port is granted from the range or refused with a sentence") {
  Fixture f;  // ports 20000-20002; ssh has 20001 in the edge's config
  auto ask = [&](LegId leg, std::string id, std::string token, std::uint16_t port, bool quick = false) {
    protocol::RegisterConnection r;
    r.tunnel_id = std::move(id);
    r.token = std::move(token);
    r.requested_public_port = port;
    r.quick_tunnel = quick;
    return f.registry.register_leg(leg, r, f.clock.now(), f.random);
  };
  SECTION("inside the range and free: granted") {
    auto a = admitted(ask(1, "web", "s3cret", 20002));
    CHECK(a.public_port == 20002);
    // The next quick tunnel gets what is left, not the requested port.
    CHECK(admitted(ask(2, "", "", 0, true)).public_port == 20000);
  }
  SECTION("outside the range: a fatal refusal naming the range") {
    auto r = rejected(ask(1, "web", "s3cret", 25000));
    CHECK(r.code == sdk::errc::port_in_use);
    CHECK(r.fatal);
    CHECK_THAT(r.message, Catch::Contains("25000") && Catch::Contains("20000-20002"));
    CHECK(f.registry.leg_count() == 0);
  }
  SECTION("the edge's own public_port wins: the same port is fine, another is refused") {
    CHECK(admitted(ask(1, "ssh", "k3y", 20001)).public_port == 20001);
    auto r = rejected(ask(2, "ssh", "k3y", 20002));
    CHECK(r.fatal);
    CHECK_THAT(r.message, Catch::Contains("has public port 20001"));
  }
  SECTION("another tunnel's port: refused, retry later") {
    auto r = rejected(ask(1, "web", "s3cret", 20001));  // reserved for ssh
    CHECK_FALSE(r.fatal);
    CHECK_THAT(r.message, Catch::Contains("taken by another tunnel"));
  }
  SECTION("a tunnel already listening elsewhere: refused") {
    CHECK(admitted(ask(1, "web", "s3cret", 0)).public_port == 20000);
    auto r = rejected(ask(2, "web", "s3cret", 20002));
    CHECK(r.fatal);
    CHECK_THAT(r.message, Catch::Contains("already listens on public port 20000"));
  }
}

TEST_CASE("secrets compare equal only when equal") {
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "abcd"));
  CHECK_FALSE(constant_time_equal("", ""));  // an empty secret never matches
}

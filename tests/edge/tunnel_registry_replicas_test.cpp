// The edge's registry with several connector processes (replicas) serving
// one tunnel: side by side, round robin, max_replicas, killed replicas.

#include "registry_fixture.hpp"

#include <algorithm>
#include <set>

using namespace warren;
using namespace warren::core;
using namespace warren::core::test;
using namespace std::chrono_literals;

namespace {

/// A registry where tunnel "web" allows two replicas and streams are unlimited.
struct ReplicaFixture : Fixture {
  static RegistryLimits replica_limits(RegistryLimits l) {
    l.max_streams_per_tunnel = 1000;
    l.evict_after = 2s;
    l.suspect_after = 600ms;
    return l;
  }
  static std::vector<TunnelEntry> two_replicas(std::vector<TunnelEntry> t) {
    t[0].max_replicas = 2;  // "web"
    return t;
  }
  TunnelRegistry replicas{replica_limits(limits), two_replicas(tunnels)};
  std::variant<Admission, protocol::Rejected> leg(LegId id, std::string connector, std::uint8_t index,
                                                  bool replace = false) {
    return reg_web(replicas, id, index, std::move(connector), replace);
  }
  std::vector<LegId> streams(int n) {
    std::vector<LegId> out;
    for (int i = 0; i < n; ++i) out.push_back(replicas.open_stream("web", clock.now()).value_or(0));
    return out;
  }
};

}  // namespace

TEST_CASE("replicas register the same leg indexes side by side, and each replaces only its own") {
  ReplicaFixture f;
  auto a0 = admitted(f.leg(1, "aaaa", 0));
  CHECK(a0.replica_joined);
  CHECK(a0.replicas == 1);
  CHECK(a0.max_replicas == 2);
  CHECK_FALSE(admitted(f.leg(2, "aaaa", 1)).replica_joined);  // the same process's next leg
  auto b0 = admitted(f.leg(3, "bbbb", 0));
  CHECK(b0.replica_joined);
  CHECK(b0.replicas == 2);
  CHECK_FALSE(b0.replaced);  // index 0 of another replica is not in the way
  CHECK_FALSE(admitted(f.leg(4, "bbbb", 1)).replaced);
  CHECK(f.replicas.leg_count() == 4);

  // B's leg 0 dies without a word; A keeps heartbeating. B's reconnect
  // evicts B's own silent leg 0, never A's.
  f.clock.advance(2500ms);
  for (LegId heard : {1, 2, 4}) f.replicas.heard_from(heard, f.clock.now());
  auto again = admitted(f.leg(5, "bbbb", 0, /*replace=*/true));
  CHECK(again.replaced == LegId{3});
  CHECK_FALSE(again.replica_joined);
  CHECK(f.replicas.leg_count() == 4);
  // A second process with B's id (a copied connector_id) cannot take a live leg.
  auto copy = rejected(f.leg(6, "bbbb", 1, /*replace=*/true));
  CHECK(copy.code == sdk::errc::duplicate_registration);
  CHECK_THAT(copy.message, Catch::Contains("for connector bbbb is held by a live connection") &&
                               Catch::Contains("same [tunnel] connector_id"));
}

TEST_CASE("public connections go round robin over the replicas, then over each one's legs") {
  ReplicaFixture f;
  admitted(f.leg(1, "aaaa", 0));
  admitted(f.leg(2, "aaaa", 1));
  admitted(f.leg(3, "bbbb", 0));  // B is still starting its second leg
  CHECK(f.streams(6) == std::vector<LegId>{1, 3, 2, 3, 1, 3});
  admitted(f.leg(4, "bbbb", 1));
  std::map<LegId, int> counts;
  for (auto leg : f.streams(400)) ++counts[leg];
  CHECK(counts == std::map<LegId, int>{{1, 100}, {2, 100}, {3, 100}, {4, 100}});
}

TEST_CASE("one replica over max_replicas is refused naming the tunnel and the limit, and joins when one leaves") {
  ReplicaFixture f;
  admitted(f.leg(1, "aaaa", 0));
  admitted(f.leg(2, "bbbb", 0));
  auto refused = rejected(f.leg(3, "cccc", 0));
  CHECK(refused.code == sdk::errc::tunnel_limit);
  CHECK_FALSE(refused.fatal);  // a standby: useful as soon as a replica leaves
  CHECK(refused.retry_after == 5s);
  CHECK(refused.message ==
        "tunnel 'web' has max_replicas = 2 on this edge and that many connectors serve it already; connector cccc "
        "retries and joins when one leaves");
  CHECK(rejected(f.leg(3, "", 0)).code == sdk::errc::tunnel_limit);  // a connector without an id is one more
  // A member's further legs are not a new replica.
  admitted(f.leg(4, "bbbb", 1));

  // B unregisters (a rolling restart): its last live leg leaving frees a place.
  CHECK_FALSE(f.replicas.drain_leg(2, f.clock.now()));  // B still has leg 1
  auto left = f.replicas.drain_leg(4, f.clock.now());
  REQUIRE(left);
  CHECK(left->tunnel_id == "web");
  CHECK(left->connector_id == "bbbb");
  CHECK(left->replicas == 1);
  CHECK(left->max_replicas == 2);
  auto c = admitted(f.leg(5, "cccc", 0));
  CHECK(c.replica_joined);
  CHECK(c.replicas == 2);
  CHECK_FALSE(f.replicas.remove_leg(2, f.clock.now()));  // the drained legs end later, quietly
  auto gone = f.replicas.remove_leg(1, f.clock.now());   // A's connection is lost
  REQUIRE(gone);
  CHECK(gone->connector_id == "aaaa");
  CHECK(gone->replicas == 1);
}

TEST_CASE("a killed replica's silent legs take no streams and do not count against max_replicas") {
  ReplicaFixture f;
  admitted(f.leg(1, "aaaa", 0));
  admitted(f.leg(2, "aaaa", 1));
  admitted(f.leg(3, "bbbb", 0));
  admitted(f.leg(4, "bbbb", 1));
  CHECK(f.replicas.replicas("web", f.clock.now()) == 2);
  CHECK(f.streams(4) == std::vector<LegId>{1, 3, 2, 4});
  // B is SIGKILLed at 0.2 s: its legs stay registered until their heartbeat
  // timeout. A keeps beating every 200 ms.
  for (int beat = 1; beat <= 4; ++beat) {
    f.clock.advance(200ms);
    for (LegId leg : {1, 2}) f.replicas.heard_from(leg, f.clock.now());
    if (beat == 1)
      for (LegId leg : {3, 4}) f.replicas.heard_from(leg, f.clock.now());
  }
  // B silent for 600 ms (suspect_after): new streams go to A alone, but B
  // still counts as a replica until evict_after.
  CHECK(f.streams(4) == std::vector<LegId>{1, 2, 1, 2});
  CHECK(f.replicas.replicas("web", f.clock.now()) == 2);
  CHECK(rejected(f.leg(5, "dddd", 0)).code == sdk::errc::tunnel_limit);
  f.clock.advance(1400ms);
  for (LegId leg : {1, 2}) f.replicas.heard_from(leg, f.clock.now());
  CHECK(f.replicas.replicas("web", f.clock.now()) == 1);  // B silent for 2 s
  // B's restart (a new random id) joins at once instead of waiting for them.
  auto restarted = admitted(f.leg(5, "dddd", 0));
  CHECK(restarted.replicas == 2);
  CHECK_FALSE(restarted.replaced);
  CHECK(f.streams(4) == std::vector<LegId>{1, 5, 2, 5});
  CHECK(f.replicas.leg_count() == 5);
  // Were A to fall silent too, every leg takes streams again: silence is a
  // hint, the heartbeat timeout is the verdict.
  f.clock.advance(700ms);
  std::set<LegId> used;
  for (auto leg : f.streams(20)) used.insert(leg);
  CHECK(used == std::set<LegId>{1, 2, 3, 4, 5});
}

TEST_CASE("quick tunnels allow the edge's default max_replicas") {
  Fixture f;
  f.limits.max_replicas = 1;
  TunnelRegistry registry(f.limits, f.tunnels);
  protocol::RegisterConnection r;
  r.quick_tunnel = true;
  r.connector_id = "aaaa";
  auto first = admitted(registry.register_leg(1, r, f.clock.now(), f.random));
  CHECK(first.max_replicas == 1);
  r.tunnel_id = first.tunnel_id;
  r.token = first.token;
  r.conn_index = 1;
  admitted(registry.register_leg(2, r, f.clock.now(), f.random));
  r.connector_id = "bbbb";
  CHECK(rejected(registry.register_leg(3, r, f.clock.now(), f.random)).code == sdk::errc::tunnel_limit);
}

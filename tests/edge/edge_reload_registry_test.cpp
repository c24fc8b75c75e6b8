// The registry's and the leg engine's part in a reload of the edge, sans-io:
// a tunnel added, removed (its legs drain in no tunnel) and changed (tokens
// for new registrations only, public_port while no port is held), and a leg
// the edge drains on its own (ends when its streams end, or at the grace).

#include "core/edge/edge_leg_engine.hpp"
#include "core/protocol/messages.hpp"
#include "registry_fixture.hpp"

using namespace warren;
using namespace warren::core;
using namespace warren::core::test;
using namespace std::chrono_literals;

TEST_CASE("reload registry: an added tunnel registers at once, an existing id is not added twice") {
  Fixture f;
  CHECK(rejected(f.reg(1, "api", "a")).code == sdk::errc::auth_failed);
  CHECK(f.registry.add_tunnel({"api", {"a"}, std::nullopt, {}}));
  CHECK(admitted(f.reg(2, "api", "a")).tunnel_id == "api");
  CHECK_FALSE(f.registry.add_tunnel({"web", {"other"}, std::nullopt, {}}));
  CHECK(rejected(f.reg(3, "web", "other")).code == sdk::errc::auth_failed);
}

TEST_CASE("reload registry: a removed tunnel refuses registrations, gives no leg a stream and frees its port") {
  Fixture f;
  auto a = admitted(f.reg(1, "web", "s3cret", 0));
  admitted(f.reg(2, "web", "s3cret", 1));
  CHECK(f.registry.open_stream("web", f.clock.now()));
  auto legs = f.registry.remove_tunnel("web");
  std::sort(legs.begin(), legs.end());
  CHECK(legs == std::vector<LegId>{1, 2});
  CHECK_FALSE(f.registry.open_stream("web", f.clock.now()));
  CHECK(rejected(f.reg(3, "web", "s3cret", 2)).code == sdk::errc::auth_failed);
  CHECK(f.registry.leg_count() == 2);  // until their connections end
  CHECK_FALSE(f.registry.remove_leg(1, f.clock.now()));
  f.registry.remove_leg(2, f.clock.now());
  CHECK(f.registry.leg_count() == 0);
  // Its port is free for another tunnel.
  CHECK(f.registry.add_tunnel({"api", {"a"}, std::nullopt, {}}));
  CHECK(admitted(f.reg(4, "api", "a")).public_port == a.public_port);
}

TEST_CASE("reload registry: a tunnel removed and added again while its old legs drain starts afresh") {
  Fixture f;
  admitted(f.reg(1, "web", "s3cret", 0));
  f.registry.remove_tunnel("web");
  CHECK(f.registry.add_tunnel({"web", {"new"}, std::nullopt, {}}));
  admitted(f.reg(2, "web", "new", 0));
  f.registry.remove_leg(1, f.clock.now());  // the old leg ends: the new one keeps its slot
  CHECK(f.registry.open_stream("web", f.clock.now()) == LegId{2});
}

TEST_CASE("reload registry: changed tokens check new registrations while registered legs stay") {
  Fixture f;
  admitted(f.reg(1, "web", "s3cret", 0));
  CHECK(f.registry.update_tunnel({"web", {"n3w"}, std::nullopt, {}}));
  CHECK(rejected(f.reg(2, "web", "s3cret", 1)).code == sdk::errc::auth_failed);
  admitted(f.reg(3, "web", "n3w", 1));
  CHECK(f.registry.legs_of("web").size() == 2);
  CHECK(f.registry.open_stream("web", f.clock.now()));
}

TEST_CASE("reload registry: public_port applies while the tunnel holds no port, not after") {
  Fixture f;
  CHECK(f.registry.update_tunnel({"web", {"s3cret"}, 20002, {}}));
  CHECK(admitted(f.reg(1, "web", "s3cret")).public_port == 20002);
  CHECK_FALSE(f.registry.update_tunnel({"web", {"s3cret"}, 20000, {}}));
  CHECK(admitted(f.reg(2, "web", "s3cret", 1)).public_port == 20002);
  CHECK_FALSE(f.registry.update_tunnel({"nope", {"x"}, std::nullopt, {}}));
}

TEST_CASE("reload registry: new limits apply to the next registration") {
  Fixture f;
  admitted(f.reg(1, "web", "s3cret"));
  auto limits = f.limits;
  limits.quick_tunnels = false;
  f.registry.set_limits(limits);
  CHECK(rejected(f.reg(2, "", "", 0, false, true)).code == sdk::errc::auth_failed);
}

namespace {

struct Leg {
  sdk::testing::ManualClock clock;
  EdgeLegEngine engine{EdgeLegTimings{.handshake_timeout = 5s, .heartbeat_interval = 200ms}, clock.now()};
  std::vector<EdgeLegAction> actions() {
    std::vector<EdgeLegAction> out;
    while (auto a = engine.poll_action()) out.push_back(*a);
    return out;
  }
};

bool ends(const std::vector<EdgeLegAction>& actions) {
  return !actions.empty() && std::holds_alternative<EndLeg>(actions.back());
}

}  // namespace

TEST_CASE("reload leg: a leg the edge drains ends once its last stream ends") {
  Leg l;
  l.engine.handle_registered(l.clock.now(), protocol::kProtocolVersion);
  l.engine.handle_stream_open_started();
  l.engine.handle_stream_open_finished(true);
  l.engine.handle_edge_drain(l.clock.now(), 30s);
  CHECK_FALSE(l.engine.accepts_streams());
  CHECK(l.actions().empty());
  l.clock.advance(10s);
  l.engine.handle_heartbeat(l.clock.now());
  l.engine.handle_timeout(l.clock.now());
  CHECK(l.actions().empty());
  l.engine.handle_stream_closed();
  auto done = l.actions();
  REQUIRE(ends(done));
  CHECK(std::get<EndLeg>(done.back()).reason == sdk::errc::shutting_down);
}

TEST_CASE("reload leg: a leg the edge drains ends at its grace with a stream still open") {
  Leg l;
  l.engine.handle_registered(l.clock.now(), protocol::kProtocolVersion);
  l.engine.handle_stream_open_started();
  l.engine.handle_stream_open_finished(true);
  l.engine.handle_edge_drain(l.clock.now(), 3s);
  REQUIRE(l.engine.next_timeout());
  CHECK(*l.engine.next_timeout() <= l.clock.now() + 3s);
  l.clock.advance(3s);
  l.engine.handle_timeout(l.clock.now());
  CHECK(ends(l.actions()));
}

TEST_CASE("reload leg: an idle leg ends at once, and one still registering too") {
  Leg idle;
  idle.engine.handle_registered(idle.clock.now(), 1);
  idle.engine.handle_edge_drain(idle.clock.now(), 30s);
  CHECK(ends(idle.actions()));
  Leg fresh;
  fresh.engine.handle_edge_drain(fresh.clock.now(), 30s);
  CHECK(ends(fresh.actions()));
}

TEST_CASE("reload leg: a leg the connector drains keeps its earlier end, and gets its ack first") {
  Leg l;
  l.engine.handle_registered(l.clock.now(), protocol::kProtocolVersion);
  l.engine.handle_stream_open_started();
  l.engine.handle_stream_open_finished(true);
  l.engine.handle_unregister(l.clock.now(), 1s);
  l.engine.handle_edge_drain(l.clock.now(), 30s);
  CHECK(*l.engine.next_timeout() <= l.clock.now() + 3s);  // its 1 s grace and the slack
  l.engine.handle_stream_closed();
  auto done = l.actions();
  REQUIRE(done.size() == 2);
  CHECK(std::holds_alternative<SendUnregisterAck>(done[0]));
  CHECK(std::holds_alternative<EndLeg>(done[1]));
}

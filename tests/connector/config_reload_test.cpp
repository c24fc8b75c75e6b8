// The lines a connector logs for a SIGHUP's changes: a udp backend's are
// about flows, a tcp backend's about streams (trial finding: a udp tunnel's
// reload said "streams").

#include "core/connector/config_reload.hpp"

#include <warren/sdk/testing.hpp>

#include <catch2/catch.hpp>

using namespace warren;
using namespace warren::core;
using sdk::testing::TableBuilder;

namespace {

ConnectorConfig with_backend(const std::string& plugin, const std::string& address, std::uint32_t legs) {
  ConnectorConfig c;
  c.tunnel.id = "dns";
  c.tunnel.ha_connections = legs;
  c.backend.plugin = plugin;
  c.backend.table = TableBuilder("backend").set("address", address).table();
  return c;
}

}  // namespace

TEST_CASE("reload lines: a udp backend's change and fewer legs speak of flows") {
  auto plan = plan_reload(with_backend("udp", "127.0.0.1:53", 2), with_backend("udp", "127.0.0.1:5353", 1),
                          ReloadCarries::flows);
  REQUIRE(plan.changes.size() == 2);
  CHECK(plan.changes[0] ==
        "[backend] changed (plugin 'udp', its keys changed): new flows go to the new backend; open flows finish on the "
        "old one");
  CHECK(plan.changes[1] ==
        "ha_connections 2 -> 1: the extra legs unregister and their flows end (a client's next datagram starts a new "
        "flow on a leg that stays)");
  for (const auto& line : plan.changes) CHECK(line.find("stream") == std::string::npos);
}

TEST_CASE("reload lines: a tcp backend's speak of streams, as before") {
  auto plan = plan_reload(with_backend("tcp", "127.0.0.1:8080", 2), with_backend("tcp", "127.0.0.1:8081", 1));
  REQUIRE(plan.changes.size() == 2);
  CHECK(plan.changes[0] ==
        "[backend] changed (plugin 'tcp', its keys changed): new streams go to the new backend; open streams finish on "
        "the old one");
  CHECK(plan.changes[1] ==
        "ha_connections 2 -> 1: the extra legs unregister and their streams drain (up to "
        "grace_period)");
}

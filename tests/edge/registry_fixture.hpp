#pragma once
// The registry under test with a manual clock and a seeded random source,
// and helpers to register legs: shared by the registry's test files.

#include "core/edge/tunnel_registry.hpp"

#include <warren/sdk/testing.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

namespace warren::core::test {

using namespace std::chrono_literals;


struct Fixture {
  RegistryLimits limits{.ports = {20000, 20002}, .max_tunnels = 10, .max_streams_per_tunnel = 3,
                        .quick_tunnels = true, .quick_tunnel_ttl = 60s};
  std::vector<TunnelEntry> tunnels{{"web", {"s3cret"}, std::nullopt, {}}, {"ssh", {"k3y"}, 20001, {}}};
  TunnelRegistry registry{limits, tunnels};
  sdk::testing::ManualClock clock;
  sdk::SeededRandom random{7};

  std::variant<Admission, protocol::Rejected> reg(LegId leg, std::string id, std::string token, std::uint8_t index = 0,
                                                  bool replace = false, bool quick = false) {
    protocol::RegisterConnection r;
    r.tunnel_id = std::move(id);
    r.token = std::move(token);
    r.conn_index = index;
    r.replace_existing = replace;
    r.quick_tunnel = quick;
    return registry.register_leg(leg, r, clock.now(), random);
  }
  /// Leg `index` of tunnel "web" on `other`, a registry made with changed limits.
  std::variant<Admission, protocol::Rejected> reg_web(TunnelRegistry& other, LegId leg, std::uint8_t index,
                                                      std::string connector = "", bool replace = false) {
    protocol::RegisterConnection r;
    r.tunnel_id = "web";
    r.token = "s3cret";
    r.conn_index = index;
    r.connector_id = std::move(connector);
    r.replace_existing = replace;
    return other.register_leg(leg, r, clock.now(), random);
  }
};

inline protocol::Rejected rejected(const std::variant<Admission, protocol::Rejected>& v) {
  REQUIRE(std::holds_alternative<protocol::Rejected>(v));
  return std::get<protocol::Rejected>(v);
}
inline Admission admitted(const std::variant<Admission, protocol::Rejected>& v) {
  if (auto* r = std::get_if<protocol::Rejected>(&v)) FAIL("rejected: " << r->message);
  return std::get<Admission>(v);
}


}  // namespace warren::core::test

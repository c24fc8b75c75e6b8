// The STATUS= sentences `systemctl status` shows, from the legs' states.

#include "core/service/service_status.hpp"

#include <catch2/catch.hpp>

using namespace warren::core;
using warren::core::supervisor::LegPhase;
using warren::core::supervisor::LegState;

namespace {

LegState leg(LegPhase phase, const char* address = nullptr, std::uint16_t port = 7844) {
  LegState l;
  l.phase = phase;
  if (address) {
    warren::sdk::EdgeAddress edge;
    edge.address = boost::asio::ip::make_address(address);
    edge.port = port;
    l.edge = edge;
  }
  return l;
}

}  // namespace

TEST_CASE("service status: registered legs and their distinct edges") {
  std::vector<LegState> legs{leg(LegPhase::registered, "127.0.0.1"), leg(LegPhase::registered, "127.0.0.1")};
  CHECK(connector_status_text(legs) == "2/2 legs registered to 127.0.0.1:7844");
  legs[1] = leg(LegPhase::registered, "::1", 443);
  CHECK(connector_status_text(legs) == "2/2 legs registered to 127.0.0.1:7844, [::1]:443");
  legs[1] = leg(LegPhase::dialing, "127.0.0.2");
  CHECK(connector_status_text(legs) == "1/2 legs registered to 127.0.0.1:7844");
}

TEST_CASE("service status: no leg registered yet says connecting") {
  std::vector<LegState> legs{leg(LegPhase::dialing, "127.0.0.1"), leg(LegPhase::idle)};
  CHECK(connector_status_text(legs) == "0/2 legs registered; connecting");
}

TEST_CASE("service status: the edge's tunnels and legs, singular and plural") {
  CHECK(edge_status_text(0, 0) == "listening; no tunnel registered");
  CHECK(edge_status_text(1, 1) == "serving 1 tunnel over 1 leg");
  CHECK(edge_status_text(3, 6) == "serving 3 tunnels over 6 legs");
}

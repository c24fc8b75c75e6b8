// Which backend serves which kind of tunnel: the connector ends (exit 3) on a
// mismatch, with a sentence naming the backend plugin and the tunnel's kind.

#include "core/connector/udp_kind_check.hpp"

#include <catch2/catch.hpp>

using namespace warren;
using core::protocol::StreamKind;
using Carries = sdk::Backend::Carries;

TEST_CASE("a backend fits a tunnel when it carries what the tunnel's kind is") {
  CHECK_FALSE(core::backend_kind_problem(StreamKind::tcp, Carries::streams, "tcp"));
  CHECK_FALSE(core::backend_kind_problem(StreamKind::udp, Carries::datagrams, "udp"));
}

TEST_CASE("a udp tunnel with a stream backend, and a tcp tunnel with the udp backend, are named") {
  auto streams = core::backend_kind_problem(StreamKind::udp, Carries::streams, "tcp");
  REQUIRE(streams);
  CHECK_THAT(*streams, Catch::Contains("kind = \"udp\""));
  CHECK_THAT(*streams, Catch::Contains("[backend] plugin = \"tcp\" carries streams"));

  auto datagrams = core::backend_kind_problem(StreamKind::tcp, Carries::datagrams, "udp");
  REQUIRE(datagrams);
  CHECK_THAT(*datagrams, Catch::Contains("kind = \"tcp\""));
  CHECK_THAT(*datagrams, Catch::Contains("[backend] plugin = \"udp\" carries datagrams"));
}

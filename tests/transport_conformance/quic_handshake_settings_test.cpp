// The QUIC plugin's keys for the defences before authentication
// (transports/quic/handshake_settings.cpp): defaults, choices, ranges.

#include "plugin_harness.hpp"

#include <catch2/catch.hpp>

namespace warren::test {
namespace {

using sdk::testing::TableBuilder;

TEST_CASE("quic: handshake keys are checked for choice, type and range", "[quic][config]") {
  CHECK(create_errors(TableBuilder("listen[1]", "edge.toml")
                          .set("retry", "always")
                          .set("retry_above_rate", 500)
                          .set("retry_above_pending", 10)
                          .set("max_handshakes", 100)
                          .set("max_handshakes_per_source", 4)
                          .set("stream_window", 65536)  // the flow-control keys still read beside them
                          .table())
            .empty());
  CHECK(create_errors(TableBuilder("listen[1]", "edge.toml").set("retry", "never").table()).empty());

  auto errors = create_errors(TableBuilder("listen[1]", "edge.toml").set("retry", "sometimes").table());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("edge.toml:2:1: 'retry' = \"sometimes\" is not one of auto, always, never") == 0);

  errors = create_errors(TableBuilder("listen[1]", "edge.toml").set("max_handshakes", 0).table());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("'max_handshakes' = 0 is out of range") != std::string::npos);

  errors = create_errors(TableBuilder("listen[1]", "edge.toml").set("max_handshakes_per_source", "8").table());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("must be an integer") != std::string::npos);

  errors = create_errors(
      TableBuilder("listen[1]", "edge.toml").set("max_handshakes", 10).set("retry_above_pending", 20).table());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("edge.toml:3:1: 'retry_above_pending' (20) must be at most 'max_handshakes' (10)") == 0);

  // An unknown key is still reported, once.
  errors = create_errors(TableBuilder("listen[1]", "edge.toml").set("retry_above", 5).table());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("unknown key 'retry_above'") != std::string::npos);
}

}  // namespace
}  // namespace warren::test

// The QUIC plugin's own keys: defaults, ranges, and a value that works.

#include "plugin_harness.hpp"
#include "stream_helpers.hpp"

#include <catch2/catch.hpp>

namespace warren::test {
namespace {

using sdk::testing::TableBuilder;

TEST_CASE("quic: keys are checked for type and range", "[quic][config]") {
  CHECK(create_errors(TableBuilder("listen[1]", "edge.toml").table()).empty());
  CHECK(create_errors(TableBuilder("listen[1]", "edge.toml")
                          .set("stream_window", 65536)
                          .set("connection_window", 1 << 20)
                          .set("max_streams", 10)
                          .table())
            .empty());

  auto errors = create_errors(TableBuilder("listen[1]", "edge.toml").set("stream_window", 10).table());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("edge.toml:2:1: 'stream_window' = 10 is out of range") == 0);

  errors = create_errors(TableBuilder("listen[1]", "edge.toml").set("max_streams", "many").table());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("must be an integer") != std::string::npos);

  errors = create_errors(
      TableBuilder("listen[1]", "edge.toml").set("stream_window", 4 << 20).set("connection_window", 1 << 20).table());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("edge.toml:3:1: 'connection_window'") == 0);

  errors = create_errors(TableBuilder("listen[1]", "edge.toml").set("stream_windw", 65536).table());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("did you mean 'stream_window'") != std::string::npos);
}

TEST_CASE("quic: initial_stream_window fits inside stream_window", "[quic][config]") {
  // Left at its default, the start window shrinks to a smaller stream_window.
  CHECK(create_errors(TableBuilder("listen[1]", "edge.toml").set("stream_window", 32768).table()).empty());
  CHECK(create_errors(TableBuilder("listen[1]", "edge.toml").set("initial_stream_window", 1 << 20).table()).empty());
  auto errors = create_errors(TableBuilder("listen[1]", "edge.toml")
                                  .set("stream_window", 65536)
                                  .set("initial_stream_window", 131072)
                                  .table());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("edge.toml:2:1: 'stream_window' (65536) must be at least 'initial_stream_window' (131072)") ==
        0);
}

TEST_CASE("quic: a small max_streams makes openers wait instead of failing", "[quic][streams]") {
  auto table = TableBuilder("transport").set("max_streams", 4).table();
  Harness h({"quic", true}, table);
  h.listen();
  auto [client, server] = h.connect();
  h.spawn(serve_echo(*server));
  std::vector<EchoResult> results(20);
  for (std::size_t i = 0; i < results.size(); ++i) h.spawn(echo_once(*client, pattern(2000, 1 + i), results[i]));
  bool finished = h.run_until([&] {
    for (auto& r : results)
      if (!r.done) return false;
    return true;
  });
  std::size_t done = 0;
  for (auto& r : results) done += r.done;
  INFO(done << " of " << results.size() << " echoes finished");
  REQUIRE(finished);
  for (std::size_t i = 0; i < results.size(); ++i) {
    CHECK_FALSE(results[i].error);
    CHECK(byte_difference(results[i].received, pattern(2000, 1 + i)) == "");
  }
}

}  // namespace
}  // namespace warren::test

// HTTP/2 only: its keys, how received bytes are charged to its windows, and
// the reverse streams through which the connector opens streams.

#include "plugin_harness.hpp"
#include "stream_helpers.hpp"

#include <catch2/catch.hpp>

namespace warren::test {
namespace {

using sdk::testing::TableBuilder;

constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t send_buffer = 64 * KiB;  // what a stream takes from its writer ahead of the window

bool http2_built() {
  for (const auto& t : transports_under_test())
    if (t.name == "http2") return true;
  return false;
}

/// No progress in three 200 ms periods in a row (one quiet period may only
/// mean this process was not scheduled on a loaded machine).
void run_until_stalled(Harness& h, const std::vector<std::shared_ptr<WriteProgress>>& progress) {
  auto give_up = std::chrono::steady_clock::now() + 20s;
  int quiet = 0;
  for (std::uint64_t last = ~std::uint64_t{0}; quiet < 3;) {
    REQUIRE(std::chrono::steady_clock::now() < give_up);
    last = total_written(progress);
    h.run_for(200ms);
    quiet = total_written(progress) == last ? quiet + 1 : 0;
  }
}

TEST_CASE("http2: keys are checked for type, range and each other", "[http2][config]") {
  REQUIRE(http2_built());  // nghttp2 is required: the plugin is always built
  CHECK(create_errors(TableBuilder("listen[1]", "edge.toml").table(), "http2").empty());
  CHECK(create_errors(TableBuilder("listen[1]", "edge.toml")
                          .set("stream_window", 65536)
                          .set("connection_window", 1 << 20)
                          .set("reverse_streams", 2)
                          .set("tcp_keepalive", "30s")
                          .table(),
                      "http2")
            .empty());
  auto errors = create_errors(TableBuilder("listen[1]", "edge.toml").set("stream_window", 10).table(), "http2");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("edge.toml:2:1: 'stream_window' = 10 is out of range") == 0);
  errors = create_errors(
      TableBuilder("listen[1]", "edge.toml").set("stream_window", 4 << 20).set("connection_window", 1 << 20).table(),
      "http2");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("edge.toml:3:1: 'connection_window'") == 0);
  errors = create_errors(TableBuilder("listen[1]", "edge.toml").set("reverse_streams", 0).table(), "http2");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("'reverse_streams'") != std::string::npos);
}

TEST_CASE("http2: unaccepted streams are bounded by connection_window, accepted ones by their own windows",
          "[http2][flow]") {
  REQUIRE(http2_built());  // nghttp2 is required: the plugin is always built
  constexpr std::uint64_t connection_window = 256 * KiB, stream_window = 64 * KiB;
  constexpr std::size_t streams = 16;  // 16 x 64 KiB = 1 MiB: four connection windows
  auto table = TableBuilder("transport")
                   .set("connection_window", static_cast<std::int64_t>(connection_window))
                   .set("stream_window", static_cast<std::int64_t>(stream_window))
                   .table();
  Harness h({"http2", false}, table);
  h.listen();
  auto [client, server] = h.connect();
  auto data = std::make_shared<const std::vector<std::uint8_t>>(pattern(64 * KiB, 5));
  std::vector<std::shared_ptr<WriteProgress>> progress;
  // The edge opens the streams (the data path: public connection to backend).
  for (std::size_t i = 0; i < streams; ++i) {
    progress.push_back(std::make_shared<WriteProgress>());
    h.spawn(write_forever(std::shared_ptr<sdk::ByteStream>(h.open_stream(*server)), data, progress.back()));
  }

  // Nobody accepts: on the wire the streams get no more than the connection window.
  run_until_stalled(h, progress);
  auto unaccepted = total_written(progress);
  INFO("taken while no stream was accepted: " << unaccepted);
  CHECK(unaccepted <= connection_window + streams * send_buffer);
  CHECK(unaccepted >= connection_window / 2);

  // Accepted but never read: each stream now fills its own window, no more.
  std::vector<sdk::ByteStreamPtr> held;
  for (std::size_t i = 0; i < streams; ++i) {
    client->async_accept_stream([&](sdk::error_code ec, sdk::ByteStreamPtr s) {
      REQUIRE_FALSE(ec);
      held.push_back(std::move(s));
    });
    REQUIRE(h.run_until([&] { return held.size() == i + 1; }));
  }
  run_until_stalled(h, progress);
  for (const auto& p : progress) {
    INFO(p->error.message());
    REQUIRE_FALSE(p->error);
    CHECK(p->written <= stream_window + send_buffer);
    CHECK(p->written >= stream_window);
  }
}

TEST_CASE("http2: with one reverse stream the connector still opens 50 streams at once", "[http2][streams]") {
  REQUIRE(http2_built());  // nghttp2 is required: the plugin is always built
  Harness h({"http2", false}, TableBuilder("transport").set("reverse_streams", 1).table());
  h.listen();
  auto [client, server] = h.connect();
  h.spawn(serve_echo(*server));
  std::vector<EchoResult> results(50);
  for (std::size_t i = 0; i < results.size(); ++i)
    h.spawn(echo_once(*client, pattern(3000, static_cast<std::uint32_t>(i)), results[i]));
  REQUIRE(h.run_until([&] {
    for (const auto& r : results)
      if (!r.done) return false;
    return true;
  }));
  for (std::size_t i = 0; i < results.size(); ++i) {
    CHECK_FALSE(results[i].error);
    CHECK(byte_difference(results[i].received, pattern(3000, static_cast<std::uint32_t>(i))) == "");
  }
}

}  // namespace
}  // namespace warren::test

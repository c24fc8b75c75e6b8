// QUIC only: how received bytes are charged to the connection window.
// Bytes on a stream the application holds are bounded by that stream's
// window and charged to nothing else; bytes on a peer's stream nobody has
// accepted stay charged to connection_window, so a peer cannot make us
// buffer more than that in streams the application never took.

#include "plugin_harness.hpp"
#include "stream_helpers.hpp"

#include <catch2/catch.hpp>

namespace warren::test {
namespace {

using sdk::testing::TableBuilder;

/// Runs until the writers have made no progress in three 200 ms periods in a
/// row: on a loaded machine one quiet period may only mean this process was
/// not scheduled (CI saw a false stall at 16 KiB with one 300 ms period).
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

TEST_CASE("quic: unaccepted streams are bounded by connection_window, accepted ones by their own windows",
          "[quic][flow]") {
  constexpr std::uint64_t KiB = 1024;
  constexpr std::uint64_t connection_window = 256 * KiB, stream_window = 64 * KiB;
  constexpr std::size_t streams = 16;  // 16 x 64 KiB = 1 MiB: four connection windows
  auto table = TableBuilder("transport")
                   .set("connection_window", static_cast<std::int64_t>(connection_window))
                   .set("stream_window", static_cast<std::int64_t>(stream_window))
                   .set("initial_stream_window", static_cast<std::int64_t>(stream_window))
                   .table();
  Harness h({"quic", true}, table);
  h.listen();
  auto [client, server] = h.connect();
  auto data = std::make_shared<const std::vector<std::uint8_t>>(pattern(64 * KiB, 5));
  std::vector<std::shared_ptr<WriteProgress>> progress;
  for (std::size_t i = 0; i < streams; ++i) {
    progress.push_back(std::make_shared<WriteProgress>());
    h.spawn(write_forever(std::shared_ptr<sdk::ByteStream>(h.open_stream(*client)), data, progress.back()));
  }

  // Nobody accepts: together the streams get no more than the connection window.
  run_until_stalled(h, progress);
  auto unaccepted = total_written(progress);
  INFO("taken while no stream was accepted: " << unaccepted);
  CHECK(unaccepted <= connection_window);
  CHECK(unaccepted >= connection_window / 2);

  // Accepted but never read: each stream now fills its own window.
  std::vector<sdk::ByteStreamPtr> held;
  for (std::size_t i = 0; i < streams; ++i) {
    server->async_accept_stream([&](sdk::error_code ec, sdk::ByteStreamPtr s) {
      REQUIRE_FALSE(ec);
      held.push_back(std::move(s));
    });
    REQUIRE(h.run_until([&] { return held.size() == i + 1; }));
  }
  run_until_stalled(h, progress);
  for (const auto& p : progress) {
    CHECK_FALSE(p->error);
    CHECK(p->written == stream_window);  // exactly its window: no more, no less
  }
}

}  // namespace
}  // namespace warren::test

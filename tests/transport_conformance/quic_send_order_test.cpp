// QUIC only: a heartbeat on the control stream (the first bidirectional
// stream) and a short write on any stream go out before more bulk data,
// however many streams are busy. Measured in bytes, not time: how many
// bytes of the busy streams' writes ngtcp2 took between the short write's
// call and the moment it took the short write's own bytes. A write
// completes when ngtcp2 has taken its bytes, and every completion is
// posted to the one loop in the order it happened, so counting bulk
// completions that run after a marker posted right behind the short write
// and before its own completion counts exactly those bytes, at the
// granularity of one bulk write (4 KiB). Round robin per packet (before)
// put the heartbeat behind one packet of every busy stream waiting for
// the path (here, for connection credit).

#include "plugin_harness.hpp"
#include "stream_helpers.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <catch2/catch.hpp>

#include <algorithm>

namespace warren::test {
namespace {

constexpr std::size_t busy_streams = 32;
constexpr std::size_t bulk_write = 4096;  // over SendScheduler::short_write: bulk
constexpr std::size_t rounds = 10;

/// Bytes of bulk writes completed so far, by every busy stream.
struct BulkCount {
  std::uint64_t taken = 0;
  sdk::error_code error;
};

awaitable<void> write_bulk(std::shared_ptr<sdk::ByteStream> stream, std::shared_ptr<BulkCount> count) {
  auto data = pattern(bulk_write, 7);
  for (;;) {
    auto [ec, n] = co_await stream->async_write_some(boost::asio::buffer(data), use_tuple);
    if (ec) {
      count->error = ec;
      co_return;
    }
    count->taken += n;
  }
}

awaitable<void> send_once(std::shared_ptr<sdk::ByteStream> stream, std::vector<std::uint8_t> data) {
  co_await write_all(*stream, data);
}

/// Reads and discards until the stream ends.
awaitable<void> drain(std::shared_ptr<sdk::ByteStream> stream) {
  std::vector<std::uint8_t> buffer(64 * 1024);
  for (;;) {
    auto [ec, n] = co_await stream->async_read_some(boost::asio::buffer(buffer), use_tuple);
    if (ec) co_return;
  }
}

/// Accepts streams and drains each; the first one accepted is also kept in
/// `first` (the control stream, when the peer opened it first).
awaitable<void> accept_and_drain(sdk::Connection& connection, std::shared_ptr<sdk::ByteStream>* first) {
  for (;;) {
    auto [ec, stream] = co_await connection.async_accept_stream(use_tuple);
    if (ec) co_return;
    std::shared_ptr<sdk::ByteStream> shared(std::move(stream));
    if (first && !*first) *first = shared;
    boost::asio::co_spawn(co_await boost::asio::this_coro::executor, drain(shared), boost::asio::detached);
  }
}

/// Writes `size` bytes on `stream` while the busy streams write, and returns
/// the bytes of bulk writes ngtcp2 took before it took these.
std::uint64_t bulk_bytes_before(Harness& h, sdk::ByteStream& stream, std::size_t size, const BulkCount& count) {
  auto data = pattern(size, 9);
  std::uint64_t before = 0, after = 0;
  bool marked = false, done = false;
  sdk::error_code error;
  stream.async_write_some(boost::asio::buffer(data), [&](sdk::error_code ec, std::size_t) {
    after = count.taken;
    error = ec;
    done = true;
  });
  // Runs after every completion posted before the write was made, and
  // before any posted after it (one loop, one thread, posts run in order).
  boost::asio::post(h.io, [&] {
    before = count.taken;
    marked = true;
  });
  REQUIRE(h.run_until([&] { return done; }, 10s));
  REQUIRE_FALSE(error);
  REQUIRE(marked);
  return after - before;
}

}  // namespace

TEST_CASE("quic: a heartbeat and a short write go out before more bulk data of 32 busy streams", "[quic][scheduler]") {
  const bool edge_sends = GENERATE(false, true);
  INFO((edge_sends ? "the edge" : "the connector") << " sends the bulk data and the heartbeat");
  // A connection window smaller than what the busy streams write at once
  // keeps the sender limited by the path, not by this test's writers, as a
  // splice's large writes do: streams wait their turn in the send queue.
  constexpr std::int64_t window = 64 * 1024;
  Harness h(
      {"quic", true},
      sdk::testing::TableBuilder("transport").set("connection_window", window).set("stream_window", window).table());
  h.listen();
  auto [client, server] = h.connect();
  std::shared_ptr<sdk::ByteStream> edge_control;
  h.spawn(accept_and_drain(*server, &edge_control));
  h.spawn(accept_and_drain(*client, nullptr));

  // The connector opens the control stream first, as warren does.
  std::shared_ptr<sdk::ByteStream> connector_control(h.open_stream(*client));
  h.spawn(send_once(connector_control, pattern(64, 1)));
  REQUIRE(h.run_until([&] { return edge_control != nullptr; }));
  sdk::Connection& sender = edge_sends ? *server : *client;
  sdk::ByteStream& control = edge_sends ? *edge_control : *connector_control;
  // A quiet stream for the short write, opened before the bulk ones.
  std::shared_ptr<sdk::ByteStream> quiet(h.open_stream(sender));

  auto count = std::make_shared<BulkCount>();
  for (std::size_t i = 0; i < busy_streams; ++i)
    h.spawn(write_bulk(std::shared_ptr<sdk::ByteStream>(h.open_stream(sender)), count));
  // Bulk data in full flow: windows grown, the congestion window in use.
  REQUIRE(h.run_until([&] { return count->taken >= (4u << 20) || count->error; }, 20s));
  REQUIRE_FALSE(count->error);

  std::uint64_t worst_heartbeat = 0, worst_short = 0;
  for (std::size_t round = 0; round < rounds; ++round) {
    auto next = count->taken + (512u << 10);
    REQUIRE(h.run_until([&] { return count->taken >= next; }, 10s));
    worst_heartbeat = std::max(worst_heartbeat, bulk_bytes_before(h, control, 64, *count));
    next = count->taken + (512u << 10);
    REQUIRE(h.run_until([&] { return count->taken >= next; }, 10s));
    worst_short = std::max(worst_short, bulk_bytes_before(h, *quiet, 512, *count));
  }
  INFO("most bulk bytes taken before a heartbeat: " << worst_heartbeat << ", before a short write: " << worst_short);
  // Before: ~one packet of each busy stream (tens of KB at 1452-byte
  // packets, megabytes at 65,000). Now the next packet built carries it.
  CHECK(worst_heartbeat == 0);
  CHECK(worst_short == 0);
  REQUIRE_FALSE(count->error);
}

}  // namespace warren::test

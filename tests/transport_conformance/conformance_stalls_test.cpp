// Conformance, stalled streams: a stream nobody reads may cost only its own
// window. With 64 streams whose receiver never reads (their writers stalled
// on flow control), the first, control-like stream and a fresh stream must
// still carry bytes promptly, in both directions. This is what keeps
// warren's heartbeats alive while public clients sit on unread data.

#include "plugin_harness.hpp"
#include "stream_helpers.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/this_coro.hpp>

namespace warren::test {
namespace {

// The binary tests one transport (warren_add_transport_conformance).
#define EACH_TRANSPORT() transport_under_test()

constexpr std::size_t stalled_streams = 64;

using HeldStreams = std::shared_ptr<std::vector<sdk::ByteStreamPtr>>;

/// Accepts streams: the first `echo_first` are echoed, the next `hold` are
/// kept in `held` and never read, every later one is echoed. Shares what it
/// uses: the loop may still run it while the test case unwinds.
awaitable<void> accept_and_hold(sdk::Connection& connection, std::size_t echo_first, std::size_t hold,
                                HeldStreams held) {
  for (std::size_t accepted = 0;; ++accepted) {
    auto [ec, stream] = co_await connection.async_accept_stream(use_tuple);
    if (ec) co_return;
    if (accepted >= echo_first && held->size() < hold) {
      held->push_back(std::move(stream));
    } else {
      boost::asio::co_spawn(co_await boost::asio::this_coro::executor, echo(std::move(stream)),
                            boost::asio::detached);
    }
  }
}

struct Ping {
  bool done = false;
  sdk::error_code error;
  std::chrono::steady_clock::duration took{};
};

/// Sends `size` bytes on a stream whose peer echoes and reads them back.
awaitable<void> ping(sdk::ByteStream& stream, std::size_t size, Ping& out) {
  auto start = std::chrono::steady_clock::now();
  auto data = pattern(size, 3);
  out.error = co_await write_all(stream, data);
  std::vector<std::uint8_t> back(size);
  if (!out.error) {
    auto [ec, n] = co_await boost::asio::async_read(stream, boost::asio::buffer(back), use_tuple);
    out.error = ec;
    if (!ec && back != data) out.error = boost::asio::error::invalid_argument;
  }
  out.took = std::chrono::steady_clock::now() - start;
  out.done = true;
}

/// `edge_opens`: the edge opens the stalled streams and the connector does
/// not read them (backend → public client direction); otherwise the reverse.
void check_stalled_streams_cost_only_their_window(const TransportUnderTest& transport, bool edge_opens) {
  Harness h(transport);
  h.listen();
  auto [client, server] = h.connect();
  auto held = std::make_shared<std::vector<sdk::ByteStreamPtr>>();  // accepted, never read
  // The connector opens the control stream, as warren does; the edge echoes it.
  h.spawn(accept_and_hold(*server, 1, edge_opens ? 0 : stalled_streams, held));
  if (edge_opens) h.spawn(accept_and_hold(*client, 0, stalled_streams, held));
  auto control = h.open_stream(*client);
  Ping first;
  h.spawn(ping(*control, 1024, first));
  REQUIRE(h.run_until([&] { return first.done; }));
  REQUIRE_FALSE(first.error);

  // Streams whose receiver never reads; their writers never run dry.
  sdk::Connection& opener = edge_opens ? *server : *client;
  auto data = std::make_shared<const std::vector<std::uint8_t>>(pattern(256 * 1024, 11));
  std::vector<std::shared_ptr<WriteProgress>> progress;
  for (std::size_t i = 0; i < stalled_streams; ++i) {
    progress.push_back(std::make_shared<WriteProgress>());
    h.spawn(write_forever(std::shared_ptr<sdk::ByteStream>(h.open_stream(opener)), data, progress.back()));
  }
  REQUIRE(h.run_until([&] { return held->size() == stalled_streams; }, 15s));
  // Wait until every writer has stalled: no progress for 300 ms.
  auto give_up = std::chrono::steady_clock::now() + 20s;
  for (std::uint64_t last = ~std::uint64_t{0}; total_written(progress) != last;) {
    REQUIRE(std::chrono::steady_clock::now() < give_up);
    last = total_written(progress);
    h.run_for(300ms);
  }
  for (const auto& p : progress) {
    INFO(p->error.message());
    REQUIRE_FALSE(p->error);
    // What one stalled stream got rid of: its window plus one write, not more.
    CHECK(p->written < (4u << 20));
  }
  INFO("bytes written into the stalled streams: " << total_written(progress));

  // The control stream still answers promptly, again and again.
  for (int round = 0; round < 5; ++round) {
    Ping again;
    h.spawn(ping(*control, 1024, again));
    REQUIRE(h.run_until([&] { return again.done; }, 5s));
    CHECK_FALSE(again.error);
    CHECK(again.took < 1s);
  }
  // A fresh stream from the same side moves its bytes promptly.
  auto started = std::chrono::steady_clock::now();
  EchoResult fresh;
  auto message = pattern(64 * 1024, 12);
  h.spawn(echo_once(opener, message, fresh));
  REQUIRE(h.run_until([&] { return fresh.done; }, 5s));
  auto fresh_took = std::chrono::steady_clock::now() - started;
  CHECK_FALSE(fresh.error);
  CHECK(byte_difference(fresh.received, message) == "");
  CHECK(fresh_took < 1s);
  // The stalled streams are still stalled and intact: none was reset.
  for (const auto& p : progress) CHECK_FALSE(p->error);
}

TEST_CASE("64 streams nobody reads leave the control stream and fresh streams working, connector to edge",
          "[conformance][streams][stalls]") {
  auto transport = EACH_TRANSPORT();
  check_stalled_streams_cost_only_their_window(transport, false);
}

TEST_CASE("64 streams nobody reads leave the control stream and fresh streams working, edge to connector",
          "[conformance][streams][stalls]") {
  auto transport = EACH_TRANSPORT();
  check_stalled_streams_cost_only_their_window(transport, true);
}

}  // namespace
}  // namespace warren::test

// Issue 13, item 1: bursts of new flows lost datagrams in the receive
// queues, and no metric showed it. A queue bounds bytes with a charge per
// datagram; a stream channel whose reader lags stops reading instead of
// dropping; the transport's own drops reach the channel's counters.

#include "core/datagram/leg_channel.hpp"
#include "core/datagram/receive_queue.hpp"
#include "channel_test_support.hpp"
#include "memory_connection.hpp"
#include "stream_pair.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <vector>

namespace warren::core::datagram {
namespace {

using test::MemoryConnection;
using test::run_until;
using test_support::bytes_of;
using test_support::receive_n;

TEST_CASE("receive queue: each datagram is charged its payload and its bookkeeping", "[datagram][receive_limits]") {
  boost::asio::io_context io;
  // Room for ten 10-byte datagrams as charged (74 bytes each), count no bound.
  ReceiveQueue queue(io.get_executor(), 1000, 740);
  for (unsigned i = 0; i < 10; ++i) REQUIRE(queue.deliver(bytes_of(10, i)));
  CHECK_FALSE(queue.deliver(bytes_of(10, 10)));
  CHECK(queue.size() == 10);
  CHECK(queue.bytes() == 740);
  CHECK(queue.half_full());
  ReceiveQueue by_count(io.get_executor(), 4, 1 << 20);
  for (unsigned i = 0; i < 4; ++i) REQUIRE(by_count.deliver(sdk::Datagram{}));
  CHECK_FALSE(by_count.deliver(sdk::Datagram{}));
}

TEST_CASE("stream channel: a reader that lags pauses the stream instead of losing datagrams",
          "[datagram][receive_limits]") {
  boost::asio::io_context io;
  auto [a, b] = test::stream_pair(io);
  // The sender may queue the whole burst; the receiver has the default bounds.
  auto left = make_stream_channel(std::move(a), {.send_queue_datagrams = 40000, .send_queue_bytes = 4 << 20});
  auto right = make_stream_channel(std::move(b));
  // 40,000 small datagrams (about a flow frame's size): far more than the
  // receive queue holds (16,384), and ~2,000 arrive with each 64 KiB read.
  const std::size_t burst = 40000;
  for (unsigned i = 0; i < burst; ++i) REQUIRE(left->send(bytes_of(30, i)));
  // Nobody receives yet: run until the receiver has read all it will.
  for (int quiet = 0; quiet < 3;) quiet = io.poll() == 0 ? quiet + 1 : 0;
  io.restart();
  CHECK(right->counters().dropped_on_receive == 0);
  CHECK(right->counters().received < burst);  // the rest waits in the stream and the sender's queue
  auto got = receive_n(io, *right, burst);
  REQUIRE(got.size() == burst);
  CHECK(got.front() == bytes_of(30, 0));
  CHECK(got.back() == bytes_of(30, burst - 1));
  CHECK(right->counters().dropped_on_receive == 0);
  CHECK(left->counters().dropped_on_send == 0);
}

}  // namespace
}  // namespace warren::core::datagram

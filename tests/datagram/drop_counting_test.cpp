// Issue 13, item 1: bursts of new flows lost datagrams in the receive
// queues, and no metric showed it. Every drop a channel makes or its
// transport makes is in its counters.

#include "core/datagram/leg_channel.hpp"
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

TEST_CASE("stream channel: frames queued when the stream fails or the channel closes count as lost in transport",
          "[datagram][receive_limits]") {
  boost::asio::io_context io;
  auto [a, b] = test::stream_pair(io);  // b is never read: the kernel's buffers fill, then the queue
  auto left = make_stream_channel(std::move(a), {.send_queue_datagrams = 100000, .send_queue_bytes = 64 << 20});
  std::size_t accepted = 0;
  for (unsigned i = 0; i < 20000; ++i) {
    if (left->send(bytes_of(1000, i))) ++accepted;
    if (i % 64 == 0) io.poll();
  }
  io.poll();
  REQUIRE(accepted == 20000);
  left->close();
  // What the kernel took was written; every frame still queued is counted.
  auto c = left->counters();
  CHECK(c.dropped_in_transport > 0);
  CHECK(c.dropped_in_transport < accepted);
}

TEST_CASE("native channel: the connection's own datagram drops are the channel's dropped_in_transport",
          "[datagram][receive_limits]") {
  boost::asio::io_context io;
  MemoryConnection ca{io, 1200}, cb{io, 1200};
  ca.connect(cb);
  cb.connect(ca);
  auto channel = make_native_channel(ca);
  CHECK_FALSE(channel->send(bytes_of(1201, 0)));  // refused: the connection counts it too
  ca.stats_value.datagrams_dropped = 1 + 7;       // ... and seven it lost on its own (queue full)
  CHECK(channel->counters().dropped_on_send == 1);
  CHECK(channel->counters().dropped_in_transport == 7);

  // A leg channel reports its native part's, and keeps them once closed.
  LegChannel leg(io.get_executor(), make_native_channel(cb), nullptr);
  cb.stats_value.datagrams_dropped = 5;
  CHECK(leg.counters().dropped_in_transport == 5);
  leg.close();
  cb.stats_value.datagrams_dropped = 500;  // the connection goes on; the closed channel's count stays
  CHECK(leg.counters().dropped_in_transport == 5);
}

TEST_CASE("leg channel: arrivals past its receive queue are counted", "[datagram][receive_limits]") {
  boost::asio::io_context io;
  MemoryConnection ca{io, 1200}, cb{io, 1200};
  ca.connect(cb);
  cb.connect(ca);
  LegChannel sender(io.get_executor(), make_native_channel(ca), nullptr);
  LegChannel receiver(io.get_executor(), make_native_channel(cb), nullptr);
  // Nobody receives: the leg channel's queue fills, whatever its bound.
  const std::size_t offered = 20000;
  for (unsigned i = 0; i < offered; ++i) REQUIRE(sender.send(bytes_of(20, i)));
  REQUIRE(run_until(io, [&] { return receiver.counters().received == offered; }));
  for (int quiet = 0; quiet < 3;) quiet = io.poll() == 0 ? quiet + 1 : 0;  // the last one's hand-over
  io.restart();
  const auto dropped = receiver.counters().dropped_on_receive;
  CHECK(dropped > 0);
  // Every datagram is either queued for the reader or counted.
  CHECK(receive_n(io, receiver, offered - dropped).size() == offered - dropped);
}

}  // namespace
}  // namespace warren::core::datagram

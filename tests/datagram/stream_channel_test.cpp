// The stream DatagramChannel over a real kernel stream pair: echo, bounded
// queues that drop and count, a malformed length, the peer's end, close().

#include "core/datagram/datagram_channel.hpp"
#include "channel_test_support.hpp"
#include "stream_pair.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>

#include <vector>

namespace warren::core::datagram {
namespace {

using test::run_until;
using test_support::bytes_of;
using test_support::receive_n;
using test_support::Received;
using test_support::receive_into;


TEST_CASE("stream channel: datagrams arrive byte-exact and in order", "[datagram][stream_channel]") {
  boost::asio::io_context io;
  auto [a, b] = test::stream_pair(io);
  auto left = make_stream_channel(std::move(a));
  auto right = make_stream_channel(std::move(b));
  std::vector<sdk::Datagram> sent;
  for (unsigned i = 0; i < 200; ++i) {
    sent.push_back(bytes_of((i * 331) % 1500, i));
    REQUIRE(left->send(sent.back()));
  }
  sent.push_back(bytes_of(65527, 9));  // the largest
  REQUIRE(left->send(sent.back()));
  CHECK(receive_n(io, *right, sent.size()) == sent);
  CHECK(left->counters().sent == sent.size());
  CHECK(right->counters().received == sent.size());
  CHECK(left->max_datagram_size() == 65527);
  // And back.
  REQUIRE(right->send(bytes_of(42, 1)));
  CHECK(receive_n(io, *left, 1) == std::vector<sdk::Datagram>{bytes_of(42, 1)});
}

TEST_CASE("stream channel: a datagram above the maximum is refused and counted", "[datagram][stream_channel]") {
  boost::asio::io_context io;
  auto [a, b] = test::stream_pair(io);
  auto left = make_stream_channel(std::move(a), {.max_datagram = 1200});
  CHECK_FALSE(left->send(bytes_of(1201, 0)));
  CHECK(left->counters().dropped_on_send == 1);
  CHECK(left->send(bytes_of(1200, 0)));
}

TEST_CASE("stream channel: a backpressured stream drops past the send queue, never buffers more",
          "[datagram][stream_channel]") {
  boost::asio::io_context io;
  auto [a, b] = test::stream_pair(io);  // b is never read: the kernel's buffers fill, then ours
  StreamChannelLimits limits{.send_queue_datagrams = 64, .send_queue_bytes = 64 * 1000};
  auto left = make_stream_channel(std::move(a), limits);
  std::size_t accepted = 0;
  const std::size_t offered = 20000;
  for (std::size_t i = 0; i < offered; ++i) {
    if (left->send(bytes_of(1000, static_cast<unsigned>(i)))) ++accepted;
    if (i % 32 == 0) io.poll();  // the stream takes what the kernel still accepts
  }
  auto counters = left->counters();
  CHECK(counters.sent == accepted);
  CHECK(counters.dropped_on_send == offered - accepted);
  CHECK(counters.dropped_on_send > 0);
  // What was accepted is what the kernel's buffers took, one write chunk, and the queue: far from all.
  CHECK(accepted < offered / 2);
}

TEST_CASE("stream channel: datagrams nobody receives wait in a bounded queue, the rest are dropped",
          "[datagram][stream_channel]") {
  boost::asio::io_context io;
  auto [a, b] = test::stream_pair(io);
  auto left = make_stream_channel(std::move(a));
  auto right = make_stream_channel(std::move(b), {.receive_queue_datagrams = 10});
  for (unsigned i = 0; i < 50; ++i) REQUIRE(left->send(bytes_of(100, i)));
  REQUIRE(run_until(io, [&] { return right->counters().received == 50; }));
  CHECK(right->counters().dropped_on_receive == 40);
  auto got = receive_n(io, *right, 10);
  REQUIRE(got.size() == 10);
  CHECK(got.front() == bytes_of(100, 0));
  CHECK(got.back() == bytes_of(100, 9));
}

TEST_CASE("stream channel: a malformed length ends that stream with protocol_error", "[datagram][stream_channel]") {
  boost::asio::io_context io;
  auto [a, b] = test::stream_pair(io);
  auto channel = make_stream_channel(std::move(a), {.max_datagram = 1200});
  Received first;
  receive_into(*channel, first);
  // A good datagram, then a length of 65535.
  const std::vector<std::uint8_t> wire = {0, 2, 'h', 'i', 0xff, 0xff, 1, 2, 3};
  bool written = false;
  boost::asio::async_write(*b, boost::asio::buffer(wire), [&](sdk::error_code, std::size_t) { written = true; });
  REQUIRE(run_until(io, [&] { return first.done; }));
  CHECK_FALSE(first.error);
  CHECK(first.datagram.size() == 2);
  Received second;
  receive_into(*channel, second);
  REQUIRE(run_until(io, [&] { return second.done; }));
  CHECK(second.error == sdk::make_error_code(sdk::errc::protocol_error));
  CHECK_FALSE(channel->send(bytes_of(3, 0)));
  // The peer sees its stream end.
  std::array<std::uint8_t, 16> buffer;
  bool read_done = false;
  sdk::error_code read_error;
  b->async_read_some(boost::asio::buffer(buffer), [&](sdk::error_code ec, std::size_t) {
    read_done = true;
    read_error = ec;
  });
  REQUIRE(run_until(io, [&] { return read_done; }));
  CHECK(read_error);
}

TEST_CASE("stream channel: the peer's end comes after the datagrams before it", "[datagram][stream_channel]") {
  boost::asio::io_context io;
  auto [a, b] = test::stream_pair(io);
  auto left = make_stream_channel(std::move(a));
  auto right = make_stream_channel(std::move(b));
  REQUIRE(left->send(bytes_of(10, 1)));
  REQUIRE(left->send(bytes_of(20, 2)));
  REQUIRE(run_until(io, [&] { return right->counters().received == 2; }));
  left.reset();  // closes: the stream goes away
  Received r1, r2, r3;
  receive_into(*right, r1);
  REQUIRE(run_until(io, [&] { return r1.done; }));
  CHECK(r1.datagram == bytes_of(10, 1));
  receive_into(*right, r2);
  REQUIRE(run_until(io, [&] { return r2.done; }));
  CHECK(r2.datagram == bytes_of(20, 2));
  receive_into(*right, r3);
  REQUIRE(run_until(io, [&] { return r3.done; }));
  CHECK(r3.error);
}

TEST_CASE("stream channel: close() aborts a pending receive and refuses sends", "[datagram][stream_channel]") {
  boost::asio::io_context io;
  auto [a, b] = test::stream_pair(io);
  auto channel = make_stream_channel(std::move(a));
  Received r;
  receive_into(*channel, r);
  io.poll();
  CHECK_FALSE(r.done);
  channel->close();
  CHECK_FALSE(r.done);  // posted, never inside the call
  REQUIRE(run_until(io, [&] { return r.done; }));
  CHECK(r.error == boost::asio::error::operation_aborted);
  CHECK_FALSE(channel->send(bytes_of(1, 0)));
  channel->close();  // idempotent
  Received again;
  receive_into(*channel, again);
  REQUIRE(run_until(io, [&] { return again.done; }));
  CHECK(again.error == boost::asio::error::operation_aborted);
}

}  // namespace
}  // namespace warren::core::datagram

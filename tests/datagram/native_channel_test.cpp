// The native DatagramChannel over an in-memory pair of connections that
// carry datagrams (a loopback double of sdk::Connection's datagram half):
// echo, refusals counted, the connection's end, close() leaving the
// connection open. The real transport runs these through QUIC in
// tests/transport_conformance/conformance_datagram_test.cpp.

#include "core/datagram/datagram_channel.hpp"
#include "channel_test_support.hpp"
#include "memory_connection.hpp"
#include "stream_pair.hpp"

#include <warren/sdk/completion.hpp>

#include <catch2/catch.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>

#include <deque>

namespace warren::core::datagram {
namespace {

using test::MemoryConnection;
using test::run_until;
using test_support::bytes_of;
using test_support::Received;
using test_support::receive_into;

struct Pair {
  boost::asio::io_context io;
  MemoryConnection a{io, 1200}, b{io, 1200};
  Pair() {
    a.connect(b);
    b.connect(a);
  }
};

TEST_CASE("native channel: datagrams echo byte-exact and are counted", "[datagram][native_channel]") {
  Pair p;
  auto left = make_native_channel(p.a);
  auto right = make_native_channel(p.b);
  CHECK(left->max_datagram_size() == 1200);
  for (unsigned i = 0; i < 20; ++i) {
    auto d = bytes_of(i * 60, i);
    REQUIRE(left->send(d));
    Received r;
    receive_into(*right, r);
    REQUIRE(run_until(p.io, [&] { return r.done; }));
    REQUIRE_FALSE(r.error);
    CHECK(r.datagram == d);
  }
  CHECK(left->counters().sent == 20);
  CHECK(right->counters().received == 20);
}

TEST_CASE("native channel: what the connection refuses is dropped and counted", "[datagram][native_channel]") {
  Pair p;
  auto left = make_native_channel(p.a);
  CHECK_FALSE(left->send(bytes_of(1201, 0)));
  CHECK(left->counters().dropped_on_send == 1);
  CHECK(left->counters().sent == 0);
}

TEST_CASE("native channel: the connection's end completes a pending receive with its reason",
          "[datagram][native_channel]") {
  Pair p;
  auto right = make_native_channel(p.b);
  Received r;
  receive_into(*right, r);
  p.io.poll();
  CHECK_FALSE(r.done);
  p.b.end(sdk::make_error_code(sdk::errc::idle_timeout));
  REQUIRE(run_until(p.io, [&] { return r.done; }));
  CHECK(r.error == sdk::make_error_code(sdk::errc::idle_timeout));
  CHECK(right->max_datagram_size() == 0);
}

TEST_CASE("native channel: close() aborts the receive and leaves the connection open", "[datagram][native_channel]") {
  Pair p;
  auto left = make_native_channel(p.a);
  auto right = make_native_channel(p.b);
  Received r;
  receive_into(*right, r);
  p.io.poll();
  right->close();
  CHECK_FALSE(r.done);  // posted, never inside close()
  REQUIRE(run_until(p.io, [&] { return r.done; }));
  CHECK(r.error == boost::asio::error::operation_aborted);
  CHECK_FALSE(right->send(bytes_of(10, 0)));
  CHECK(right->max_datagram_size() == 0);
  // The connection still carries datagrams: the channel's receive left
  // pending on it takes this one and drops it as closed.
  REQUIRE(left->send(bytes_of(10, 1)));
  REQUIRE(run_until(p.io, [&] { return right->counters().dropped_on_receive == 1; }));
  CHECK(p.b.max_datagram_size() == 1200);
  CHECK(p.b.receives_started == 1);
}

TEST_CASE("native channel: a second receive while one is pending fails with in_progress",
          "[datagram][native_channel]") {
  Pair p;
  auto right = make_native_channel(p.b);
  Received first, second;
  receive_into(*right, first);
  receive_into(*right, second);
  REQUIRE(run_until(p.io, [&] { return second.done; }));
  CHECK(second.error == boost::asio::error::in_progress);
  CHECK_FALSE(first.done);
}

}  // namespace
}  // namespace warren::core::datagram

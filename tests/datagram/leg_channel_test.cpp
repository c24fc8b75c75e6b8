// LegChannel: native datagrams for what fits, the leg's stream for the rest;
// a stream attached later; the ends of either part; close().

#include "core/datagram/leg_channel.hpp"
#include "channel_test_support.hpp"
#include "memory_connection.hpp"
#include "stream_pair.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <vector>

namespace warren::core::datagram {
namespace {

using test::MemoryConnection;
using test::run_until;
using test_support::bytes_of;
using test_support::receive_n;


/// Two legs' ends: a connection pair for datagrams of at most `native_max`
/// bytes, and a kernel stream pair.
struct Legs {
  boost::asio::io_context io;
  MemoryConnection ca{io, 1200}, cb{io, 1200};
  std::unique_ptr<LegChannel> a, b;

  explicit Legs(bool native = true, bool stream = true) {
    ca.connect(cb);
    cb.connect(ca);
    auto [sa, sb] = test::stream_pair(io);
    a = std::make_unique<LegChannel>(io.get_executor(), native ? make_native_channel(ca) : nullptr,
                                     stream ? make_stream_channel(std::move(sa)) : nullptr);
    b = std::make_unique<LegChannel>(io.get_executor(), native ? make_native_channel(cb) : nullptr,
                                     stream ? make_stream_channel(std::move(sb)) : nullptr);
  }
};

std::vector<sdk::Datagram> sorted(std::vector<sdk::Datagram> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_CASE("leg channel: what fits goes native, what does not goes on the stream, all arrive",
          "[datagram][leg_channel]") {
  Legs legs;
  CHECK(legs.a->max_datagram_size() == 65527);  // the stream's
  std::vector<sdk::Datagram> sent;
  for (unsigned i = 0; i < 100; ++i) {
    sent.push_back(bytes_of(1 + (i * 97) % 3000, i));
    REQUIRE(legs.a->send(sent.back()));
  }
  // Both parts carried some: the native part only those of <= 1200 bytes.
  const auto native_count = static_cast<std::size_t>(
      std::count_if(sent.begin(), sent.end(), [](const sdk::Datagram& d) { return d.size() <= 1200; }));
  REQUIRE(native_count > 0);
  REQUIRE(native_count < sent.size());
  CHECK(sorted(receive_n(legs.io, *legs.b, sent.size())) == sorted(sent));
  CHECK(legs.a->counters().sent == sent.size());
  CHECK(legs.b->counters().received == sent.size());

  // The path grows (PMTUD): larger ones go native from then on.
  legs.ca.set_max_datagram_size(4000);
  REQUIRE(legs.a->send(bytes_of(3000, 1)));
  CHECK(receive_n(legs.io, *legs.b, 1) == std::vector<sdk::Datagram>{bytes_of(3000, 1)});
  CHECK(legs.cb.receives_started > 0);
}

TEST_CASE("leg channel: without a native part everything goes on the stream, and without either sends are refused",
          "[datagram][leg_channel]") {
  Legs stream_only(false, true);
  CHECK_FALSE(stream_only.a->has_native());
  REQUIRE(stream_only.a->send(bytes_of(100, 1)));
  CHECK(receive_n(stream_only.io, *stream_only.b, 1) == std::vector<sdk::Datagram>{bytes_of(100, 1)});

  Legs nothing(false, false);
  CHECK(nothing.a->max_datagram_size() == 0);
  CHECK_FALSE(nothing.a->send(bytes_of(10, 1)));
  CHECK(nothing.a->counters().dropped_on_send == 1);
}

TEST_CASE("leg channel: a stream attached later carries what the native part cannot", "[datagram][leg_channel]") {
  Legs legs(true, false);
  CHECK_FALSE(legs.a->send(bytes_of(2000, 1)));  // too large for the native part, no stream yet
  CHECK(legs.a->counters().dropped_on_send == 1);
  auto [sa, sb] = test::stream_pair(legs.io);
  legs.a->attach_stream(make_stream_channel(std::move(sa)));
  legs.b->attach_stream(make_stream_channel(std::move(sb)));
  CHECK(legs.a->has_stream());
  REQUIRE(legs.a->send(bytes_of(2000, 2)));
  REQUIRE(legs.b->send(bytes_of(50, 3)));
  CHECK(receive_n(legs.io, *legs.b, 1) == std::vector<sdk::Datagram>{bytes_of(2000, 2)});
  CHECK(receive_n(legs.io, *legs.a, 1) == std::vector<sdk::Datagram>{bytes_of(50, 3)});
}

TEST_CASE("leg channel: the stream part's end is survived beside a native part, and ends a stream-only channel",
          "[datagram][leg_channel]") {
  boost::asio::io_context io;
  MemoryConnection ca{io, 1200}, cb{io, 1200};
  ca.connect(cb);
  cb.connect(ca);
  auto [sa, sb] = test::stream_pair(io);
  LegChannel with_native(io.get_executor(), make_native_channel(ca), make_stream_channel(std::move(sa)));
  auto peer_stream = make_stream_channel(std::move(sb));
  peer_stream->close();  // the peer resets its stream
  run_until(io, [&] { return !with_native.has_stream(); });
  LegChannel peer(io.get_executor(), make_native_channel(cb), nullptr);
  REQUIRE(with_native.send(bytes_of(500, 4)));
  CHECK(receive_n(io, peer, 1) == std::vector<sdk::Datagram>{bytes_of(500, 4)});
  CHECK_FALSE(with_native.send(bytes_of(2000, 5)));  // no stream for it any more

  auto [xa, xb] = test::stream_pair(io);
  LegChannel stream_only(io.get_executor(), nullptr, make_stream_channel(std::move(xa)));
  xb.reset();  // the peer's stream goes away
  sdk::error_code ended;
  CHECK(receive_n(io, stream_only, 1, &ended).empty());
  CHECK(ended);
}

TEST_CASE("leg channel: the connection's end ends the channel after what arrived before it",
          "[datagram][leg_channel]") {
  Legs legs;
  REQUIRE(legs.b->send(bytes_of(10, 1)));
  REQUIRE(legs.b->send(bytes_of(20, 2)));
  run_until(legs.io, [&] { return legs.a->counters().received == 2; });  // both wait in a's queue
  legs.ca.end(boost::asio::error::connection_reset);
  sdk::error_code ended;
  CHECK(receive_n(legs.io, *legs.a, 3, &ended) == std::vector<sdk::Datagram>{bytes_of(10, 1), bytes_of(20, 2)});
  CHECK(ended == boost::asio::error::connection_reset);
}

TEST_CASE("leg channel: close() aborts a pending receive, refuses sends, and keeps the counts",
          "[datagram][leg_channel]") {
  Legs legs;
  REQUIRE(legs.a->send(bytes_of(10, 1)));
  sdk::error_code result;
  bool done = false;
  legs.b->async_receive([&](sdk::error_code ec, sdk::Datagram) {
    result = ec;
    done = true;
  });
  legs.b->async_receive([&](sdk::error_code ec, sdk::Datagram) { CHECK(ec == boost::asio::error::in_progress); });
  run_until(legs.io, [&] { return done; });
  CHECK_FALSE(result);
  legs.b->async_receive([&](sdk::error_code ec, sdk::Datagram) {
    result = ec;
    done = true;
  });
  done = false;
  legs.b->close();
  run_until(legs.io, [&] { return done; });
  CHECK(result == boost::asio::error::operation_aborted);
  CHECK_FALSE(legs.b->send(bytes_of(1, 1)));
  CHECK(legs.b->max_datagram_size() == 0);
  CHECK(legs.b->counters().received == 1);
  CHECK(legs.b->counters().dropped_on_send == 1);
}

}  // namespace
}  // namespace warren::core::datagram

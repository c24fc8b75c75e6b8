// Conformance, datagrams (SDK ABI 1.4, RFC 9221): a transport either
// carries them (max_datagram_size() > 0 on an established connection: QUIC)
// or says it has none (0: HTTP/2, whose UDP tunnels core frames on a
// stream). One that carries them echoes them byte-exact, refuses what is
// too large, drops and counts a burst past its queue instead of holding it,
// keeps the control stream's latency under a datagram flood, and ends a
// pending receive with the connection's reason.

#include "plugin_harness.hpp"
#include "stream_helpers.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <memory>

namespace warren::test {
namespace {

// The binary tests one transport (warren_add_transport_conformance).
#define EACH_TRANSPORT() transport_under_test()

sdk::Datagram datagram_of(std::size_t size, std::uint32_t seed) {
  auto bytes = pattern(size, seed);
  sdk::Datagram d(size);
  std::transform(bytes.begin(), bytes.end(), d.begin(), [](std::uint8_t b) { return std::byte{b}; });
  return d;
}

struct Received {
  bool done = false;
  sdk::error_code error;
  sdk::Datagram datagram;
};

/// A receive loop's progress; `done` once the connection ended it. A case
/// that starts one ends it with end_receiving() before its connections go.
struct ReceiveLoop {
  std::uint64_t count = 0;
  bool done = false;
};

/// Receives every datagram until the connection ends; echoes each if `echo`.
awaitable<void> receive_datagrams(sdk::Connection& connection, std::shared_ptr<ReceiveLoop> loop, bool echo) {
  for (;;) {
    auto [ec, d] = co_await connection.async_receive_datagram(use_tuple);
    if (ec) break;
    ++loop->count;
    if (echo) connection.send_datagram(d);
  }
  loop->done = true;
}

/// Closes `connection` and waits for `loop` to see it: a completion already
/// posted must not resume the loop on a destroyed connection.
void end_receiving(Harness& h, sdk::Connection& connection, const std::shared_ptr<ReceiveLoop>& loop) {
  connection.close(sdk::error_code());
  REQUIRE(h.run_until([&] { return loop->done; }, 5s));
}

/// True (with a note) when the transport has no datagrams: then it must say
/// so on both ends and refuse every send.
bool without_datagrams(Harness::Pair& pair) {
  if (pair.client->max_datagram_size() > 0) return false;
  CHECK(pair.server->max_datagram_size() == 0);
  auto d = datagram_of(100, 1);
  CHECK_FALSE(pair.client->send_datagram(d));
  CHECK_FALSE(pair.server->send_datagram(d));
  WARN(transport_under_test().name << " has no datagrams: core carries them on a stream");
  return true;
}

TEST_CASE("datagrams echo byte-exact, or the transport says it has none", "[conformance][datagram]") {
  Harness h(EACH_TRANSPORT());
  h.listen();
  auto pair = h.connect();
  if (without_datagrams(pair)) return;
  CHECK(pair.server->max_datagram_size() > 0);
  auto echoer = std::make_shared<ReceiveLoop>();
  h.spawn(receive_datagrams(*pair.server, echoer, true));
  std::size_t largest = pair.client->max_datagram_size();
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{100}, std::size_t{1200}, largest}) {
    INFO("size " << size << " of at most " << largest);
    auto d = datagram_of(size, static_cast<std::uint32_t>(size));
    // Datagrams may be lost even on loopback: a few tries, each with its own deadline.
    Received r;
    for (int attempt = 0; attempt < 3 && !(r.done && !r.error); ++attempt) {
      REQUIRE(pair.client->send_datagram(d));
      r = {};
      pair.client->async_receive_datagram(
          [&r](sdk::error_code ec, sdk::Datagram got) { r = {true, ec, std::move(got)}; });
      h.run_until([&] { return r.done; }, 1s);
    }
    REQUIRE(r.done);
    REQUIRE_FALSE(r.error);
    CHECK(r.datagram == d);
  }
  auto stats = pair.client->stats();
  CHECK(stats.datagrams_sent >= 5);
  CHECK(stats.datagrams_received >= 5);
  end_receiving(h, *pair.server, echoer);
}

TEST_CASE("a datagram larger than max_datagram_size() is refused and counted", "[conformance][datagram]") {
  Harness h(EACH_TRANSPORT());
  h.listen();
  auto pair = h.connect();
  if (without_datagrams(pair)) return;
  std::size_t largest = pair.client->max_datagram_size();
  auto before = pair.client->stats().datagrams_dropped;
  CHECK_FALSE(pair.client->send_datagram(datagram_of(largest + 1, 3)));
  CHECK(pair.client->stats().datagrams_dropped == before + 1);
  CHECK(pair.client->send_datagram(datagram_of(largest, 3)));
}

TEST_CASE("a datagram burst beyond the queue is dropped and counted, not buffered", "[conformance][datagram]") {
  Harness h(EACH_TRANSPORT());
  h.listen();
  auto pair = h.connect();
  if (without_datagrams(pair)) return;
  // All at once, with no chance to send in between: only the queue can hold them.
  constexpr std::size_t burst = 20000;
  auto d = datagram_of(1200, 9);
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < burst; ++i) accepted += pair.client->send_datagram(d) ? 1 : 0;
  INFO("accepted " << accepted << " of " << burst);
  CHECK(accepted > 0);
  CHECK(accepted < burst / 4);  // bounded: 20,000 x 1,200 B = 24 MB were offered
  auto stats = pair.client->stats();
  CHECK(stats.datagrams_dropped == burst - accepted);
  // The receiver reads nothing yet: its queue is bounded too.
  h.run_until([&] { return pair.server->stats().datagrams_received >= accepted; }, 2s);
  h.run_for(100ms);
  auto server = pair.server->stats();
  CHECK(server.datagrams_received <= accepted);
  auto delivered = std::make_shared<ReceiveLoop>();
  h.spawn(receive_datagrams(*pair.server, delivered, false));
  h.run_until([&] { return delivered->count + server.datagrams_dropped >= server.datagrams_received; }, 2s);
  CHECK(delivered->count + pair.server->stats().datagrams_dropped == server.datagrams_received);
  CHECK(pair.client->stats().datagrams_sent == accepted);  // every accepted one left: none retransmitted
  end_receiving(h, *pair.server, delivered);
}

/// Sends 1,200-byte datagrams as fast as the queue takes them until `stop`.
awaitable<void> flood(sdk::Connection& connection, std::shared_ptr<bool> stop) {
  auto d = datagram_of(1200, 5);
  auto executor = co_await boost::asio::this_coro::executor;
  while (!*stop) {
    for (int i = 0; i < 64; ++i) connection.send_datagram(d);
    co_await boost::asio::post(executor, boost::asio::use_awaitable);
  }
}

/// Round trips of 64 bytes on `stream`, each time added to `rtts`.
awaitable<void> ping(sdk::ByteStream& stream, int count, std::vector<std::chrono::microseconds>& rtts) {
  auto data = pattern(64, 2);
  std::vector<std::uint8_t> back(64);
  for (int i = 0; i < count; ++i) {
    auto start = std::chrono::steady_clock::now();
    co_await write_all(stream, data);
    std::size_t have = 0;
    while (have < back.size()) {
      auto [ec, n] = co_await stream.async_read_some(boost::asio::buffer(back.data() + have, back.size() - have),
                                                     use_tuple);
      if (ec) co_return;
      have += n;
    }
    rtts.push_back(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start));
  }
}

TEST_CASE("a datagram flood does not starve the control stream", "[conformance][datagram]") {
  Harness h(EACH_TRANSPORT());
  h.listen();
  auto pair = h.connect();
  if (without_datagrams(pair)) return;
  h.spawn(serve_echo(*pair.server));
  auto control = h.open_stream(*pair.client);  // the first stream: the control stream
  auto flooded = std::make_shared<ReceiveLoop>();
  h.spawn(receive_datagrams(*pair.server, flooded, false));
  std::vector<std::chrono::microseconds> quiet, loud;
  h.spawn(ping(*control, 20, quiet));
  REQUIRE(h.run_until([&] { return quiet.size() == 20; }));
  auto stop = std::make_shared<bool>(false);
  h.spawn(flood(*pair.client, stop));
  h.run_for(100ms);  // the flood is in full swing
  h.spawn(ping(*control, 50, loud));
  bool pinged = h.run_until([&] { return loud.size() == 50; }, 20s);
  *stop = true;
  REQUIRE(pinged);
  std::sort(quiet.begin(), quiet.end());
  std::sort(loud.begin(), loud.end());
  auto sent = pair.client->stats().datagrams_sent;
  INFO("round trip without a flood: median " << quiet[10].count() << " us; under a flood of " << sent
                                             << " datagrams: median " << loud[25].count() << " us, max "
                                             << loud.back().count() << " us; " << flooded->count << " received");
  CHECK(sent > 1000);  // there was a flood
  // Loose bounds (a shared machine): a heartbeat waits behind at most a
  // packet's worth of datagrams, never behind the queue or the flood.
  CHECK(loud[25] < 20ms);
  CHECK(loud.back() < 200ms);
  h.run_for(10ms);  // the flood's last pass sees stop
  end_receiving(h, *pair.server, flooded);
}

TEST_CASE("the connection's end completes a pending datagram receive with its reason", "[conformance][datagram]") {
  Harness h(EACH_TRANSPORT());
  h.listen();
  auto pair = h.connect();
  if (without_datagrams(pair)) return;
  Received datagram;
  bool accepted = false;
  sdk::error_code accept_error;
  pair.client->async_receive_datagram(
      [&](sdk::error_code ec, sdk::Datagram d) { datagram = {true, ec, std::move(d)}; });
  pair.client->async_accept_stream([&](sdk::error_code ec, sdk::ByteStreamPtr) {
    accepted = true;
    accept_error = ec;
  });
  h.run_for(50ms);
  CHECK_FALSE(datagram.done);
  pair.server->close(sdk::error_code());
  REQUIRE(h.run_until([&] { return datagram.done && accepted; }, 5s));
  CHECK(datagram.error);
  CHECK(datagram.error == accept_error);
  CHECK(pair.client->max_datagram_size() == 0);
  // Later receives fail at once with the same reason.
  Received later;
  pair.client->async_receive_datagram([&](sdk::error_code ec, sdk::Datagram d) { later = {true, ec, std::move(d)}; });
  REQUIRE(h.run_until([&] { return later.done; }, 1s));
  CHECK(later.error == accept_error);
}

}  // namespace
}  // namespace warren::test

// The splice over real socket pairs: byte-exact both ways, half-close
// carried across, a reset aborting both sides, and the drain tracker.

#include "core/splice/stream_splice.hpp"
#include "stream_pair.hpp"

#include <warren/sdk/random.hpp>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <optional>
#include <thread>

using namespace warren;
using namespace warren::core;

namespace {

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint64_t seed) {
  sdk::SeededRandom random(seed);
  std::vector<std::uint8_t> out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(random.next_u64());
  return out;
}

}  // namespace

TEST_CASE("splice copies both ways byte for byte and carries half-close") {
  boost::asio::io_context io;
  auto [client, a] = test::stream_pair(io);
  auto [b, server] = test::stream_pair(io);
  SpliceTracker tracker;
  std::optional<SpliceResult> result;
  splice(std::move(a), std::move(b), {'h', 'i'}, [&](const SpliceResult& r) { result = r; }, &tracker, 4096);
  CHECK(tracker.active() == 1);

  auto up = random_bytes(3 * 1024 * 1024, 1);
  auto down = random_bytes(2 * 1024 * 1024, 2);
  // The far ends run in threads with blocking I/O, as real peers would.
  std::vector<std::uint8_t> at_server, at_client;
  std::thread server_thread([&, &srv = server->socket()] {
    boost::system::error_code ec;
    std::vector<std::uint8_t> buffer(65536);
    for (;;) {
      auto n = srv.read_some(boost::asio::buffer(buffer), ec);
      at_server.insert(at_server.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
      if (ec) break;  // EOF: the client's half-close came through
    }
    boost::asio::write(srv, boost::asio::buffer(down));
    srv.shutdown(boost::asio::socket_base::shutdown_send);
  });
  std::thread client_thread([&, &cli = client->socket()] {
    boost::asio::write(cli, boost::asio::buffer(up));
    cli.shutdown(boost::asio::socket_base::shutdown_send);
    boost::system::error_code ec;
    std::vector<std::uint8_t> buffer(65536);
    for (;;) {
      auto n = cli.read_some(boost::asio::buffer(buffer), ec);
      at_client.insert(at_client.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
      if (ec) break;
    }
  });
  bool ok = test::run_until(io, [&] { return result.has_value(); });
  server_thread.join();
  client_thread.join();
  REQUIRE(ok);
  std::vector<std::uint8_t> expected_up{'h', 'i'};
  expected_up.insert(expected_up.end(), up.begin(), up.end());
  CHECK(at_server == expected_up);
  CHECK(at_client == down);
  CHECK(result->a_to_b == expected_up.size());
  CHECK(result->b_to_a == down.size());
  CHECK_FALSE(result->error);
  CHECK(tracker.active() == 0);
}

TEST_CASE("a reset on one side aborts the other and reports the error") {
  boost::asio::io_context io;
  auto [client, a] = test::tcp_pair(io);
  auto [b, server] = test::tcp_pair(io);
  std::optional<SpliceResult> result;
  bool idle = false;
  SpliceTracker tracker;
  splice(std::move(a), std::move(b), {}, [&](const SpliceResult& r) { result = r; }, &tracker);
  tracker.when_idle([&] { idle = true; });
  client->abort();  // RST toward the splice
  REQUIRE(test::run_until(io, [&] { return result.has_value(); }));
  CHECK(result->error == sdk::errc::stream_reset);
  CHECK(idle);
  // The far side sees its stream end instead of hanging.
  boost::system::error_code ec;
  char byte;
  server->socket().read_some(boost::asio::buffer(&byte, 1), ec);
  CHECK(ec);
}

TEST_CASE("abort_all ends a splice whose client reads nothing, with RST and unsent bytes dropped") {
  boost::asio::io_context io;
  auto [client, a] = test::tcp_pair(io);
  auto [b, server] = test::tcp_pair(io);
  // Small client buffers so the splice's write to the client blocks soon.
  client->socket().set_option(boost::asio::socket_base::receive_buffer_size(4096));
  SpliceTracker tracker;
  std::optional<SpliceResult> result;
  splice(std::move(a), std::move(b), {}, [&](const SpliceResult& r) { result = r; }, &tracker);
  // The server streams until the splice is stuck writing to the silent client.
  server->socket().non_blocking(true);
  std::vector<std::uint8_t> chunk(65536, 'z');
  std::size_t sent = 0;
  auto stuck_at = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int quiet_rounds = 0;
  while (quiet_rounds < 5 && std::chrono::steady_clock::now() < stuck_at) {
    boost::system::error_code ec;
    auto n = server->socket().write_some(boost::asio::buffer(chunk), ec);
    sent += n;
    quiet_rounds = n ? 0 : quiet_rounds + 1;
    io.restart();
    io.run_for(std::chrono::milliseconds(20));
  }
  REQUIRE(sent > 0);
  REQUIRE_FALSE(result);
  REQUIRE(tracker.active() == 1);

  tracker.abort_all(sdk::make_error_code(sdk::errc::peer_closed));
  REQUIRE(test::run_until(io, [&] { return result.has_value(); }));
  CHECK(result->error == sdk::errc::peer_closed);
  CHECK(tracker.active() == 0);
  // The client sees a reset (not a clean end) although it read nothing.
  boost::system::error_code ec;
  std::vector<std::uint8_t> sink(1 << 20);
  while (!ec) client->socket().read_some(boost::asio::buffer(sink), ec);
  CHECK(ec == boost::asio::error::connection_reset);
}

TEST_CASE("the idle timeout ends a splice that moves no byte, and not one that does") {
  using namespace std::chrono_literals;
  boost::asio::io_context io;
  SpliceOptions options;
  options.idle_timeout = 300ms;

  auto [client, a] = test::tcp_pair(io);
  auto [b, server] = test::tcp_pair(io);
  std::optional<SpliceResult> idle;
  auto started = std::chrono::steady_clock::now();
  splice(std::move(a), std::move(b), {}, [&](const SpliceResult& r) { idle = r; }, options);
  REQUIRE(test::run_until(io, [&] { return idle.has_value(); }));
  auto took = std::chrono::steady_clock::now() - started;
  CHECK(idle->error == sdk::errc::idle_timeout);
  CHECK(took >= 300ms);
  CHECK(took < 3s);

  // A server that speaks every 100 ms keeps its splice open past the timeout.
  auto [client2, a2] = test::tcp_pair(io);
  auto [b2, server2] = test::tcp_pair(io);
  std::optional<SpliceResult> busy;
  splice(std::move(a2), std::move(b2), {}, [&](const SpliceResult& r) { busy = r; }, options);
  for (int i = 0; i < 10; ++i) {
    boost::asio::write(server2->socket(), boost::asio::buffer("x", 1));
    io.restart();
    io.run_for(100ms);
  }
  CHECK_FALSE(busy);
  server2->socket().shutdown(boost::asio::socket_base::shutdown_send);
  client2->socket().shutdown(boost::asio::socket_base::shutdown_send);
  REQUIRE(test::run_until(io, [&] { return busy.has_value(); }));
  CHECK_FALSE(busy->error);
  CHECK(busy->b_to_a == 10);
}

TEST_CASE("buffers grow only within the shared budget, stay byte-exact, and give the budget back") {
  boost::asio::io_context io;
  auto budget = std::make_shared<BufferBudget>(8 * 1024);  // room for one doubling of each 4 KiB buffer
  auto [client, a] = test::stream_pair(io);
  auto [b, server] = test::stream_pair(io);
  std::optional<SpliceResult> result;
  SpliceOptions options;
  options.budget = budget;
  splice(std::move(a), std::move(b), {}, [&](const SpliceResult& r) { result = r; }, options);
  auto up = random_bytes(2 * 1024 * 1024, 3);
  std::vector<std::uint8_t> at_server;
  std::thread server_thread([&, &srv = server->socket()] {
    boost::system::error_code ec;
    std::vector<std::uint8_t> buffer(65536);
    for (;;) {
      auto n = srv.read_some(boost::asio::buffer(buffer), ec);
      at_server.insert(at_server.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
      if (ec) break;
    }
    srv.shutdown(boost::asio::socket_base::shutdown_send);
  });
  std::thread client_thread([&, &cli = client->socket()] {
    boost::asio::write(cli, boost::asio::buffer(up));
    cli.shutdown(boost::asio::socket_base::shutdown_send);
  });
  std::size_t peak = 0;
  bool ok = test::run_until(io, [&] {
    peak = std::max(peak, budget->used());
    return result.has_value();
  });
  server_thread.join();
  client_thread.join();
  REQUIRE(ok);
  CHECK(at_server == up);
  CHECK(peak <= budget->limit());
  CHECK(peak > 0);
  io.restart();
  io.poll();  // let the splice's last handlers go, and with them its buffers
  CHECK(budget->used() == 0);
}

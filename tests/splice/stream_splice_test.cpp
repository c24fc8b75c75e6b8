// The splice over real socket pairs: byte-exact both ways, half-close
// carried across, a reset aborting both sides, and the drain tracker.

#include "core/splice/stream_splice.hpp"
#include "stream_pair.hpp"

#include <warren/sdk/random.hpp>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <atomic>
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

namespace {

/// A stream the splice cannot wait on for readability (as a transport's
/// stream): it must read into a buffer, so it keeps a small one.
class OpaqueStream final : public sdk::ByteStream {
 public:
  explicit OpaqueStream(sdk::ByteStreamPtr inner) : inner_(std::move(inner)) {}
  executor_type get_executor() override { return inner_->get_executor(); }
  void shutdown_send() override { inner_->shutdown_send(); }
  void abort() override { inner_->abort(); }

 private:
  void async_read_some_impl(boost::asio::mutable_buffer buffer, sdk::ReadHandler handler) override {
    inner_->async_read_some(buffer, std::move(handler));
  }
  void async_write_some_impl(boost::asio::const_buffer buffer, sdk::WriteHandler handler) override {
    inner_->async_write_some(buffer, std::move(handler));
  }
  sdk::ByteStreamPtr inner_;
};

}  // namespace

TEST_CASE("an idle splice holds at most a small buffer, grows under bulk data and shrinks back") {
  using namespace std::chrono_literals;
  boost::asio::io_context io;
  auto before = splice_buffer_bytes();
  auto [client, a] = test::stream_pair(io);  // a socket: waited on, no buffer while idle
  auto [b, server] = test::stream_pair(io);
  std::optional<SpliceResult> result;
  splice(std::move(a), std::make_unique<OpaqueStream>(std::move(b)), {},
         [&](const SpliceResult& r) { result = r; });
  io.run_for(50ms);
  // Idle: nothing on the socket side, one 2 KiB buffer on the opaque side
  // (it was 2 x 64 KiB once, then 2 x 4 KiB).
  CHECK(splice_buffer_bytes() - before <= 2 * 1024);

  // Bulk data both ways: the buffers grow.
  auto up = random_bytes(4 * 1024 * 1024, 5);
  auto down = random_bytes(4 * 1024 * 1024, 6);
  std::vector<std::uint8_t> at_server, at_client;
  // The readers' progress, for the io thread to watch (the vectors are
  // theirs until joined).
  std::atomic<std::size_t> server_got{0}, client_got{0};
  auto drain = [](auto& socket, std::vector<std::uint8_t>& into, std::atomic<std::size_t>& got, std::size_t want) {
    std::vector<std::uint8_t> buffer(65536);
    while (into.size() < want) {
      auto n = socket.read_some(boost::asio::buffer(buffer));
      into.insert(into.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
      got = into.size();
    }
  };
  std::thread server_thread([&, &srv = server->socket()] {
    std::thread reader([&] { drain(srv, at_server, server_got, up.size()); });
    boost::asio::write(srv, boost::asio::buffer(down));
    reader.join();
  });
  std::thread client_thread([&, &cli = client->socket()] {
    std::thread reader([&] { drain(cli, at_client, client_got, down.size()); });
    boost::asio::write(cli, boost::asio::buffer(up));
    reader.join();
  });
  std::size_t peak = 0;
  bool moved = test::run_until(io, [&] {
    peak = std::max(peak, splice_buffer_bytes() - before);
    return server_got == up.size() && client_got == down.size();
  });
  server_thread.join();
  client_thread.join();
  REQUIRE(moved);
  CHECK(at_server == up);
  CHECK(at_client == down);
  CHECK(peak >= 32 * 1024);

  // Traffic turns small (a byte each way): the opaque side's next buffer is
  // small again and the socket side, drained, holds none.
  boost::asio::write(server->socket(), boost::asio::buffer("x", 1));
  boost::asio::write(client->socket(), boost::asio::buffer("y", 1));
  std::atomic<bool> arrived{false};
  std::thread echo([&] {
    char byte = 0;
    client->socket().read_some(boost::asio::buffer(&byte, 1));
    server->socket().read_some(boost::asio::buffer(&byte, 1));
    arrived = true;
  });
  bool quiet = test::run_until(io, [&] { return arrived && splice_buffer_bytes() - before <= 2 * 1024; });
  if (!arrived) {  // unblock the reader before failing
    client->socket().shutdown(boost::asio::socket_base::shutdown_receive);
    server->socket().shutdown(boost::asio::socket_base::shutdown_receive);
  }
  echo.join();
  CHECK(quiet);

  client->socket().shutdown(boost::asio::socket_base::shutdown_send);
  server->socket().shutdown(boost::asio::socket_base::shutdown_send);
  REQUIRE(test::run_until(io, [&] { return result.has_value(); }));
  CHECK_FALSE(result->error);
  io.restart();
  io.poll();
  CHECK(splice_buffer_bytes() == before);
}

TEST_CASE("an opaque side that goes quiet after a burst waits with a buffer the size of the burst's tail") {
  // The last read of a burst that did not fill the grown buffer (a stream
  // that echoed a reply, then idles for good) used to leave the next read
  // waiting with the whole grown buffer: 64 KiB per idle HTTP/2 stream.
  boost::asio::io_context io;
  auto before = splice_buffer_bytes();
  auto [client, a] = test::stream_pair(io);
  auto [b, server] = test::stream_pair(io);
  std::optional<SpliceResult> result;
  splice(std::move(a), std::make_unique<OpaqueStream>(std::move(b)), {},
         [&](const SpliceResult& r) { result = r; });

  // Bulk from the opaque side grows its buffer to 64 KiB.
  auto bulk = random_bytes(2 * 1024 * 1024, 7);
  std::vector<std::uint8_t> at_client;
  std::thread writer([&, &srv = server->socket()] { boost::asio::write(srv, boost::asio::buffer(bulk)); });
  std::vector<std::uint8_t> chunk(65536);
  auto read_until = [&](std::size_t want) {
    return test::run_until(io, [&] {
      boost::system::error_code ec;
      while (client->socket().available(ec) > 0 && !ec) {
        auto n = client->socket().read_some(boost::asio::buffer(chunk), ec);
        at_client.insert(at_client.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
      }
      return at_client.size() >= want;
    });
  };
  REQUIRE(read_until(bulk.size()));
  writer.join();

  // Then one 20 KiB reply (more than a quarter of 64 KiB: the target stays)
  // and silence: the waiting read holds at most 32 KiB.
  auto tail = random_bytes(20 * 1024, 8);
  boost::asio::write(server->socket(), boost::asio::buffer(tail));
  REQUIRE(read_until(bulk.size() + tail.size()));
  io.poll();
  CHECK(splice_buffer_bytes() - before <= 32 * 1024);

  client->socket().shutdown(boost::asio::socket_base::shutdown_send);
  server->socket().shutdown(boost::asio::socket_base::shutdown_send);
  REQUIRE(test::run_until(io, [&] { return result.has_value(); }));
  CHECK_FALSE(result->error);
  CHECK(std::equal(bulk.begin(), bulk.end(), at_client.begin()));
}

TEST_CASE("a splice counts its bytes as each write completes, before it ends, into its counter and tracker") {
  boost::asio::io_context io;
  auto [client, a] = test::tcp_pair(io);
  auto [b, server] = test::tcp_pair(io);
  SpliceTracker tracker;
  auto total = std::make_shared<ByteCounter>();
  auto counter = std::make_shared<ByteCounter>();
  counter->parent = total;
  SpliceOptions options;
  options.tracker = &tracker;
  options.bytes = counter;
  std::optional<SpliceResult> result;
  splice(std::move(a), std::move(b), {'h', 'i'}, [&](const SpliceResult& r) { result = r; }, options);
  CHECK(tracker.total() == 1);

  auto up = random_bytes(100 * 1024, 3);
  std::atomic<std::size_t> at_server{0};
  // The server reads what comes and never closes: the splice stays open.
  std::thread server_thread([&, &srv = server->socket()] {
    std::vector<std::uint8_t> buffer(65536);
    boost::system::error_code ec;
    while (at_server < up.size() + 2) at_server += srv.read_some(boost::asio::buffer(buffer), ec);
    boost::asio::write(srv, boost::asio::buffer(up.data(), 5000));
  });
  boost::asio::write(client->socket(), boost::asio::buffer(up));
  REQUIRE(test::run_until(io, [&] { return counter->a_to_b == up.size() + 2 && counter->b_to_a == 5000; }));
  server_thread.join();
  CHECK_FALSE(result);  // still running
  CHECK(total->a_to_b == up.size() + 2);
  CHECK(total->b_to_a == 5000);
  CHECK(tracker.bytes().a_to_b == up.size() + 2);
  CHECK(tracker.bytes().b_to_a == 5000);

  tracker.abort_all(sdk::make_error_code(sdk::errc::peer_closed));
  REQUIRE(test::run_until(io, [&] { return result.has_value(); }));
  CHECK(result->a_to_b == counter->a_to_b);
  CHECK(result->b_to_a == counter->b_to_a);
  CHECK(tracker.total() == 1);
  CHECK(tracker.active() == 0);
}

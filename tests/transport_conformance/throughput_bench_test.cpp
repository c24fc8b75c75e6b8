// Measurements, not checks: hidden from default runs. Run with
//   transport_conformance_test "[bench]" -s
// to print handshake time and single-stream throughput on loopback.

#include "plugin_harness.hpp"
#include "stream_helpers.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/buffer.hpp>

namespace warren::test {
namespace {

struct Sink {
  std::uint64_t bytes = 0;
  bool done = false;
  sdk::error_code error;
};

awaitable<void> read_and_count(sdk::Connection& connection, Sink& sink) {
  auto [ec, stream] = co_await connection.async_accept_stream(use_tuple);
  if (ec) {
    sink.error = ec;
    sink.done = true;
    co_return;
  }
  std::vector<std::uint8_t> buffer(256 * 1024);
  for (;;) {
    auto [read_error, n] = co_await stream->async_read_some(boost::asio::buffer(buffer), use_tuple);
    sink.bytes += n;
    if (read_error) {
      if (read_error != boost::asio::error::eof) sink.error = read_error;
      break;
    }
  }
  sink.done = true;
}

awaitable<void> send_bytes(sdk::Connection& connection, std::size_t total, sdk::error_code& error) {
  auto [ec, stream] = co_await connection.async_open_stream(use_tuple);
  if (ec) {
    error = ec;
    co_return;
  }
  auto chunk = pattern(256 * 1024, 4);
  std::size_t sent = 0;
  while (sent < total) {
    auto [write_error, n] = co_await stream->async_write_some(boost::asio::buffer(chunk), use_tuple);
    if (write_error) {
      error = write_error;
      co_return;
    }
    sent += n;
  }
  stream->shutdown_send();
  std::vector<std::uint8_t> drain(1);
  co_await stream->async_read_some(boost::asio::buffer(drain), use_tuple);
}

TEST_CASE("measure handshake time and single-stream throughput", "[.][bench]") {
  auto transport = GENERATE(from_range(transports_under_test()));
  Harness h(transport);
  h.listen();

  constexpr int handshakes = 20;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < handshakes; ++i) {
    auto pair = h.connect();
    REQUIRE(pair.client);
  }
  auto per_handshake = (std::chrono::steady_clock::now() - start) / handshakes;
  WARN(transport.name << ": dial + accept takes "
                      << std::chrono::duration_cast<std::chrono::microseconds>(per_handshake).count() << " us");

  auto [client, server] = h.connect();
  constexpr std::size_t total = 64u << 20;
  Sink sink;
  sdk::error_code send_error;
  h.spawn(read_and_count(*server, sink));
  start = std::chrono::steady_clock::now();
  h.spawn(send_bytes(*client, total, send_error));
  REQUIRE(h.run_until([&] { return sink.done; }, 60s));
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK_FALSE(send_error);
  CHECK_FALSE(sink.error);
  CHECK(sink.bytes == total);
  WARN(transport.name << ": 64 MiB on one stream in " << seconds << " s = " << (total / seconds / 1e6)
                      << " MB/s; smoothed RTT "
                      << std::chrono::duration_cast<std::chrono::microseconds>(client->stats().smoothed_rtt).count()
                      << " us, client sent " << client->stats().bytes_sent << " bytes");
}

}  // namespace
}  // namespace warren::test

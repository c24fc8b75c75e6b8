// Conformance, streams: every transport plugin must pass these.

#include "plugin_harness.hpp"
#include "stream_helpers.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

namespace warren::test {
namespace {

// The binary tests one transport (warren_add_transport_conformance).
#define EACH_TRANSPORT() transport_under_test()

void check_echo(const TransportUnderTest& transport, std::size_t size) {
  Harness h(transport);
  h.listen();
  auto [client, server] = h.connect();
  h.spawn(serve_echo(*server));
  auto data = pattern(size, 7);
  EchoResult result;
  h.spawn(echo_once(*client, data, result));
  REQUIRE(h.run_until([&] { return result.done; }, 20s));
  INFO(result.error.message());
  CHECK_FALSE(result.error);
  REQUIRE(result.received.size() == data.size());
  CHECK(byte_difference(result.received, data) == "");
}

TEST_CASE("open a stream and echo a small message", "[conformance][streams]") {
  auto transport = EACH_TRANSPORT();
  check_echo(transport, 5);
}

TEST_CASE("echo 4 MiB byte-exact", "[conformance][streams]") {
  auto transport = EACH_TRANSPORT();
  check_echo(transport, 4 << 20);
}

struct HalfCloseResult {
  bool done = false;
  ReadResult first;   ///< what the side that closed first read after its close
  ReadResult second;  ///< what the other side read before it answered
};

// One side sends and half-closes; the other reads to EOF, then answers
// over its still-open direction and half-closes too.
awaitable<void> close_first(sdk::ByteStream& stream, std::vector<std::uint8_t> message, HalfCloseResult& out) {
  // Never co_await inside a Catch macro: GCC evaluates it more than once.
  auto written = co_await write_all(stream, message);
  CHECK_FALSE(written);
  stream.shutdown_send();
  out.first = co_await read_to_end(stream);
  out.done = true;
}

awaitable<void> answer_after_eof(sdk::ByteStream& stream, std::vector<std::uint8_t> answer, HalfCloseResult& out) {
  out.second = co_await read_to_end(stream);
  auto written = co_await write_all(stream, answer);
  CHECK_FALSE(written);
  stream.shutdown_send();
}

awaitable<void> open_and_run(sdk::Connection& connection, sdk::ByteStreamPtr& keep, std::vector<std::uint8_t> message,
                             HalfCloseResult& out, bool opener_closes_first) {
  auto [ec, stream] = co_await connection.async_open_stream(use_tuple);
  REQUIRE_FALSE(ec);
  keep = std::move(stream);
  if (opener_closes_first) {
    co_await close_first(*keep, std::move(message), out);
  } else {
    // The accepting side only learns of the stream from its first byte.
    auto written = co_await write_all(*keep, std::span(message.data(), 1));
    CHECK_FALSE(written);
    message.erase(message.begin());
    co_await answer_after_eof(*keep, std::move(message), out);
  }
}

awaitable<void> accept_and_run(sdk::Connection& connection, sdk::ByteStreamPtr& keep, std::vector<std::uint8_t> message,
                               HalfCloseResult& out, bool acceptor_closes_first) {
  auto [ec, stream] = co_await connection.async_accept_stream(use_tuple);
  REQUIRE_FALSE(ec);
  keep = std::move(stream);
  if (acceptor_closes_first) {
    co_await close_first(*keep, std::move(message), out);
  } else {
    co_await answer_after_eof(*keep, std::move(message), out);
  }
}

TEST_CASE("half-close works in both directions", "[conformance][streams]") {
  auto transport = EACH_TRANSPORT();
  bool opener_closes_first = GENERATE(true, false);
  Harness h(transport);
  h.listen();
  auto [client, server] = h.connect();
  auto request = pattern(3000, 1), reply = pattern(5000, 2);
  HalfCloseResult result;
  sdk::ByteStreamPtr client_stream, server_stream;
  h.spawn(open_and_run(*client, client_stream, opener_closes_first ? request : reply, result, opener_closes_first));
  h.spawn(accept_and_run(*server, server_stream, opener_closes_first ? reply : request, result, !opener_closes_first));
  REQUIRE(h.run_until([&] { return result.done; }));
  CHECK_FALSE(result.first.error);
  CHECK_FALSE(result.second.error);
  // Whoever closed first sent `request` and still read all of `reply`.
  CHECK(byte_difference(result.second.data, request) == "");
  CHECK(byte_difference(result.first.data, reply) == "");
}

struct ResetObserved {
  bool read_done = false;
  bool write_done = false;
  sdk::error_code read_error;
  sdk::error_code write_error;
};

awaitable<void> read_until_error(sdk::ByteStream& stream, ResetObserved& out) {
  auto result = co_await read_to_end(stream);
  out.read_error = result.error ? result.error : sdk::error_code(boost::asio::error::eof);
  out.read_done = true;
}

awaitable<void> write_until_error(sdk::ByteStream& stream, ResetObserved& out) {
  auto chunk = pattern(16 * 1024, 3);
  for (;;) {
    auto [ec, n] = co_await stream.async_write_some(boost::asio::buffer(chunk), use_tuple);
    if (ec) {
      out.write_error = ec;
      break;
    }
  }
  out.write_done = true;
}

TEST_CASE("abort resets the stream for the peer", "[conformance][streams]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  h.listen();
  auto [client, server] = h.connect();

  sdk::ByteStreamPtr server_stream;
  auto client_stream = h.open_stream(*client);
  std::vector<std::uint8_t> hello = {'h', 'i'};
  bool written = false;
  boost::asio::async_write(*client_stream, boost::asio::buffer(hello), [&](sdk::error_code ec, std::size_t) {
    CHECK_FALSE(ec);
    written = true;
  });
  server->async_accept_stream([&](sdk::error_code ec, sdk::ByteStreamPtr s) {
    REQUIRE_FALSE(ec);
    server_stream = std::move(s);
  });
  REQUIRE(h.run_until([&] { return written && server_stream != nullptr; }));

  // A read of our own is pending when we abort: it ends with operation_aborted.
  std::array<std::uint8_t, 16> own_buffer;
  sdk::error_code own_read;
  bool own_done = false;
  client_stream->async_read_some(boost::asio::buffer(own_buffer), [&](sdk::error_code ec, std::size_t) {
    own_read = ec;
    own_done = true;
  });
  client_stream->abort();
  ResetObserved peer;
  h.spawn(read_until_error(*server_stream, peer));
  h.spawn(write_until_error(*server_stream, peer));
  REQUIRE(h.run_until([&] { return own_done && peer.read_done && peer.write_done; }));
  CHECK(own_read == boost::asio::error::operation_aborted);
  CHECK(peer.read_error == sdk::make_error_code(sdk::errc::stream_reset));
  CHECK(peer.write_error == sdk::make_error_code(sdk::errc::stream_reset));
}

TEST_CASE("destroying a stream aborts it for the peer", "[conformance][streams]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  h.listen();
  auto [client, server] = h.connect();
  sdk::ByteStreamPtr server_stream;
  auto client_stream = h.open_stream(*client);
  std::vector<std::uint8_t> hello = {'h', 'i'};
  boost::asio::async_write(*client_stream, boost::asio::buffer(hello), [](sdk::error_code, std::size_t) {});
  server->async_accept_stream([&](sdk::error_code ec, sdk::ByteStreamPtr s) {
    REQUIRE_FALSE(ec);
    server_stream = std::move(s);
  });
  REQUIRE(h.run_until([&] { return server_stream != nullptr; }));
  client_stream.reset();
  ResetObserved peer;
  h.spawn(read_until_error(*server_stream, peer));
  h.spawn(write_until_error(*server_stream, peer));
  REQUIRE(h.run_until([&] { return peer.read_done && peer.write_done; }));
  CHECK(peer.read_error == sdk::make_error_code(sdk::errc::stream_reset));
  CHECK(peer.write_error == sdk::make_error_code(sdk::errc::stream_reset));
}

TEST_CASE("a stream destroyed after shutdown_send still delivers what it sent", "[conformance][streams]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  h.listen();
  auto [client, server] = h.connect();
  auto client_stream = h.open_stream(*client);
  // A reader from the start: a transport need not take more than a small
  // window's worth of bytes ahead of one.
  ReadResult received;
  bool done = false;
  auto reader = [](sdk::Connection& c, ReadResult& out, bool& finished) -> awaitable<void> {
    auto [ec, stream] = co_await c.async_accept_stream(use_tuple);
    REQUIRE_FALSE(ec);
    out = co_await read_to_end(*stream);
    finished = true;
  };
  h.spawn(reader(*server, received, done));
  auto data = pattern(512 * 1024, 11);
  bool written = false;
  boost::asio::async_write(*client_stream, boost::asio::buffer(data), [&](sdk::error_code ec, std::size_t) {
    CHECK_FALSE(ec);
    written = true;
  });
  REQUIRE(h.run_until([&] { return written; }));
  // Like close() after shutdown() on a TCP socket: what was written goes
  // out, including bytes still unacknowledged.
  client_stream->shutdown_send();
  client_stream.reset();
  REQUIRE(h.run_until([&] { return done; }));
  CHECK_FALSE(received.error);
  CHECK(byte_difference(received.data, data) == "");
}

TEST_CASE("1000 concurrent streams each echo their own data", "[conformance][streams]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  h.listen();
  auto [client, server] = h.connect();
  h.spawn(serve_echo(*server));
  constexpr std::size_t streams = 1000;
  std::vector<EchoResult> results(streams);
  std::vector<std::vector<std::uint8_t>> sent;
  for (std::size_t i = 0; i < streams; ++i) {
    sent.push_back(pattern(1000 + i, static_cast<std::uint32_t>(100 + i)));
    h.spawn(echo_once(*client, sent.back(), results[i]));
  }
  auto all_done = [&] {
    for (const auto& r : results)
      if (!r.done) return false;
    return true;
  };
  REQUIRE(h.run_until(all_done, 30s));
  std::size_t good = 0;
  for (std::size_t i = 0; i < streams; ++i) good += !results[i].error && results[i].received == sent[i];
  CHECK(good == streams);
}

TEST_CASE("the edge opens streams to the connector just as well", "[conformance][streams]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  h.listen();
  auto [client, server] = h.connect();
  h.spawn(serve_echo(*client));
  constexpr std::size_t streams = 100;
  std::vector<EchoResult> results(streams);
  for (std::size_t i = 0; i < streams; ++i)
    h.spawn(echo_once(*server, pattern(20000, static_cast<std::uint32_t>(i)), results[i]));
  REQUIRE(h.run_until([&] {
    for (const auto& r : results)
      if (!r.done) return false;
    return true;
  }));
  std::size_t good = 0;
  for (std::size_t i = 0; i < streams; ++i)
    good += !results[i].error && results[i].received == pattern(20000, static_cast<std::uint32_t>(i));
  CHECK(good == streams);
}

struct Writer {
  std::uint64_t completed = 0;
  bool done = false;
  sdk::error_code error;
};

awaitable<void> write_counting(sdk::ByteStream& stream, const std::vector<std::uint8_t>& data, Writer& writer) {
  std::size_t offset = 0;
  while (offset < data.size()) {
    std::size_t n = std::min<std::size_t>(64 * 1024, data.size() - offset);
    auto [ec, written] = co_await stream.async_write_some(boost::asio::buffer(data.data() + offset, n), use_tuple);
    if (ec) {
      writer.error = ec;
      break;
    }
    offset += written;
    writer.completed += written;
  }
  if (!writer.error) stream.shutdown_send();
  writer.done = true;
}

TEST_CASE("a stalled reader holds the writer back without unbounded buffering", "[conformance][streams]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  h.listen();
  auto [client, server] = h.connect();
  sdk::ByteStreamPtr server_stream;
  auto client_stream = h.open_stream(*client);
  const auto data = pattern(32 << 20, 9);
  Writer writer;
  h.spawn(write_counting(*client_stream, data, writer));
  server->async_accept_stream([&](sdk::error_code ec, sdk::ByteStreamPtr s) {
    REQUIRE_FALSE(ec);
    server_stream = std::move(s);
  });
  REQUIRE(h.run_until([&] { return server_stream != nullptr; }));

  // Nobody reads: the writer must stall once the windows are full.
  h.run_for(500ms);
  CHECK_FALSE(writer.done);
  std::uint64_t stalled_at = writer.completed;
  h.run_for(200ms);
  CHECK(writer.completed == stalled_at);
  INFO("bytes the writer got rid of while nobody read: " << stalled_at);
  CHECK(stalled_at < (8u << 20));

  // The reader wakes up: everything arrives, intact and in order.
  ReadResult received;
  bool read_done = false;
  auto reader = [](sdk::ByteStream& s, ReadResult& out, bool& done) -> awaitable<void> {
    out = co_await read_to_end(s);
    done = true;
  };
  h.spawn(reader(*server_stream, received, read_done));
  REQUIRE(h.run_until([&] { return read_done && writer.done; }, 30s));
  CHECK_FALSE(writer.error);
  CHECK_FALSE(received.error);
  REQUIRE(received.data.size() == data.size());
  CHECK(byte_difference(received.data, data) == "");
}

}  // namespace
}  // namespace warren::test

#include "stream_helpers.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

namespace warren::test {

std::vector<std::uint8_t> pattern(std::size_t size, std::uint32_t seed) {
  std::vector<std::uint8_t> out(size);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& byte : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    byte = static_cast<std::uint8_t>(x);
  }
  return out;
}

std::string byte_difference(const std::vector<std::uint8_t>& got, const std::vector<std::uint8_t>& expected) {
  std::size_t common = std::min(got.size(), expected.size());
  for (std::size_t i = 0; i < common; ++i)
    if (got[i] != expected[i])
      return "first difference at byte " + std::to_string(i) + " of " + std::to_string(expected.size());
  if (got.size() != expected.size())
    return "got " + std::to_string(got.size()) + " bytes, expected " + std::to_string(expected.size());
  return "";
}

awaitable<sdk::error_code> write_all(sdk::ByteStream& stream, std::span<const std::uint8_t> data) {
  std::size_t offset = 0;
  while (offset < data.size()) {
    auto [ec, n] = co_await stream.async_write_some(
        boost::asio::buffer(data.subspan(offset).data(), data.size() - offset), use_tuple);
    if (ec) co_return ec;
    offset += n;
  }
  co_return sdk::error_code();
}

awaitable<ReadResult> read_to_end(sdk::ByteStream& stream) {
  ReadResult result;
  std::vector<std::uint8_t> buffer(64 * 1024);
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(boost::asio::buffer(buffer), use_tuple);
    result.data.insert(result.data.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
    if (ec == boost::asio::error::eof) break;
    if (ec) {
      result.error = ec;
      break;
    }
  }
  co_return result;
}

awaitable<void> echo(sdk::ByteStreamPtr stream) {
  std::vector<std::uint8_t> buffer(64 * 1024);
  for (;;) {
    auto [ec, n] = co_await stream->async_read_some(boost::asio::buffer(buffer), use_tuple);
    if (n && co_await write_all(*stream, std::span(buffer.data(), n))) co_return;
    if (ec) break;
  }
  stream->shutdown_send();
  // Hold the stream until the peer has everything: destroying it would
  // abort what is still in flight. The peer's own end closes it.
  std::vector<std::uint8_t> drain(1);
  co_await stream->async_read_some(boost::asio::buffer(drain), use_tuple);
}

awaitable<void> write_forever(std::shared_ptr<sdk::ByteStream> stream,
                              std::shared_ptr<const std::vector<std::uint8_t>> data,
                              std::shared_ptr<WriteProgress> progress) {
  // Small writes, so `written` follows what the transport took.
  constexpr std::size_t piece = 16 * 1024;
  for (std::size_t offset = 0;; offset = (offset + piece) % data->size()) {
    auto [ec, n] = co_await stream->async_write_some(boost::asio::buffer(data->data() + offset, piece), use_tuple);
    if (ec) {
      progress->error = ec;
      co_return;
    }
    progress->written += n;
  }
}

std::uint64_t total_written(const std::vector<std::shared_ptr<WriteProgress>>& progress) {
  std::uint64_t sum = 0;
  for (const auto& p : progress) sum += p->written;
  return sum;
}

awaitable<void> serve_echo(sdk::Connection& connection) {
  for (;;) {
    auto [ec, stream] = co_await connection.async_accept_stream(use_tuple);
    if (ec) co_return;
    boost::asio::co_spawn(co_await boost::asio::this_coro::executor, echo(std::move(stream)), boost::asio::detached);
  }
}

namespace {

struct WriteState {
  sdk::error_code error;
  bool finished = false;
};

// Owns what it uses: it may outlive the coroutine that started it.
awaitable<void> send_then_close(std::shared_ptr<sdk::ByteStream> stream, std::vector<std::uint8_t> data,
                                std::shared_ptr<WriteState> state) {
  state->error = co_await write_all(*stream, data);
  if (!state->error) stream->shutdown_send();
  state->finished = true;
}

}  // namespace

awaitable<void> echo_once(sdk::Connection& connection, std::vector<std::uint8_t> data, EchoResult& result) {
  auto [ec, opened] = co_await connection.async_open_stream(use_tuple);
  std::shared_ptr<sdk::ByteStream> stream = std::move(opened);
  if (ec) {
    result.error = ec;
    result.done = true;
    co_return;
  }
  // Write and read at once: an echo larger than both windows needs it.
  auto writer = std::make_shared<WriteState>();
  boost::asio::co_spawn(co_await boost::asio::this_coro::executor, send_then_close(stream, std::move(data), writer),
                        boost::asio::detached);
  auto read = co_await read_to_end(*stream);
  result.error = writer->error ? writer->error : read.error;
  result.received = std::move(read.data);
  // The echo's EOF cannot come before our FIN, so the writer is done here.
  if (!writer->finished && !result.error) result.error = boost::asio::error::operation_aborted;
  result.done = true;
}

}  // namespace warren::test

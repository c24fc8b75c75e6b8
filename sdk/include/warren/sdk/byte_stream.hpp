#pragma once
// A reliable, ordered, bidirectional byte stream: a transport's stream (QUIC
// stream, HTTP/2 stream) or a backend connection. Core splices two of them.
//
// Async style of the whole SDK: a public template `async_x(..., token)` that
// forwards to a private virtual `async_x_impl(..., any_completion_handler)`.
// Callers pick any completion token (callbacks, use_awaitable, futures); a
// plugin stores the type-erased handler and completes it when the engine
// (ngtcp2, a socket) says so.

#include <warren/sdk/error.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>

#include <cstddef>
#include <memory>

namespace warren::sdk {

using ReadHandler = boost::asio::any_completion_handler<void(error_code, std::size_t)>;
using WriteHandler = boost::asio::any_completion_handler<void(error_code, std::size_t)>;

class BOOST_SYMBOL_VISIBLE ByteStream {
 public:
  using executor_type = boost::asio::any_io_executor;

  /// Destroying a stream abandons what is unfinished: pending handlers
  /// complete with boost::asio::error::operation_aborted and the peer sees a
  /// reset — unless shutdown_send() was called first, in which case the
  /// bytes already written and the FIN are still delivered (like close()
  /// after shutdown() on a TCP socket).
  virtual ~ByteStream() = default;

  virtual executor_type get_executor() = 0;

  /// Reads at least one byte into the first buffer of `buffers`. The end of
  /// the peer's data (FIN) completes with boost::asio::error::eof; a reset
  /// with errc::stream_reset. At most one read may be pending.
  template <typename MutableBufferSequence, typename Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto handler, boost::asio::mutable_buffer b) { async_read_some_impl(b, std::move(handler)); },
        token, first<boost::asio::mutable_buffer>(boost::asio::buffer_sequence_begin(buffers),
                                                 boost::asio::buffer_sequence_end(buffers)));
  }

  /// Writes at least one byte of the first buffer of `buffers`. Completes
  /// when the stream has taken the bytes (flow control may make that wait:
  /// that wait is the backpressure). At most one write may be pending.
  template <typename ConstBufferSequence, typename Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto handler, boost::asio::const_buffer b) { async_write_some_impl(b, std::move(handler)); },
        token, first<boost::asio::const_buffer>(boost::asio::buffer_sequence_begin(buffers),
                                               boost::asio::buffer_sequence_end(buffers)));
  }

  /// Half-close: the peer reads EOF after the data already written. Reading
  /// goes on until the peer closes its side too.
  virtual void shutdown_send() = 0;

  /// Abandons both directions at once (QUIC RESET_STREAM + STOP_SENDING, TCP
  /// RST). Pending handlers complete with operation_aborted; the peer sees
  /// errc::stream_reset.
  virtual void abort() = 0;

 private:
  template <typename Buffer, typename It>
  static Buffer first(It begin, It end) {
    for (; begin != end; ++begin)
      if (Buffer b(*begin); b.size() != 0) return b;
    return Buffer();
  }

  virtual void async_read_some_impl(boost::asio::mutable_buffer buffer, ReadHandler handler) = 0;
  virtual void async_write_some_impl(boost::asio::const_buffer buffer, WriteHandler handler) = 0;
};

using ByteStreamPtr = std::unique_ptr<ByteStream>;

}  // namespace warren::sdk

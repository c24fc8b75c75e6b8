#pragma once
// Everything about one HTTP/2 stream that outlives a single call: bytes in
// both directions and the one pending read and write. Shared by the
// connection (until nghttp2 closes the stream) and the application's
// sdk::StreamHandle (until it is destroyed).

#include "byte_queue.hpp"

#include <warren/sdk/byte_stream.hpp>

#include <boost/asio/buffer.hpp>

#include <cstdint>

namespace warren::http2 {

/// Bytes a stream takes from its writer ahead of nghttp2 (which takes them
/// as the peer's window allows): write_some completes once they are here.
inline constexpr std::size_t stream_send_buffer = 64 << 10;

struct StreamState {
  explicit StreamState(std::int32_t stream_id = -1) : id(stream_id) {}

  std::int32_t id;  ///< -1 until nghttp2 assigns it
  /// A stream the edge opened ahead for the connector (warren-stream: reverse);
  /// `claimed` once the connector's side took it (its response went out or came in).
  bool reverse = false;
  bool claimed = false;

  // Receiving. The stream's window (WINDOW_UPDATE) goes back only as the
  // application reads out of `received`; the connection's window goes back
  // as bytes land here once the application holds the stream, so a stream
  // nobody reads costs its own window and nothing of the connection's.
  ByteQueue received;
  bool adopted = false;          ///< opened by us, or handed to the application by accept
  std::uint64_t uncredited = 0;  ///< bytes in `received` still charged to the connection window
  bool fin_received = false;     ///< END_STREAM arrived; `received` holds the rest
  bool reset_received = false;   ///< RST_STREAM arrived (or the stream closed with an error)
  sdk::ReadHandler read_handler;
  boost::asio::mutable_buffer read_buffer;

  // Sending: nghttp2's data source reads `outgoing`; a write waits only
  // while `outgoing` is full.
  ByteQueue outgoing;
  sdk::WriteHandler write_handler;
  boost::asio::const_buffer write_buffer;
  bool fin_requested = false;  ///< shutdown_send() was called
  bool fin_sent = false;
  bool deferred = false;   ///< nghttp2 waits for resume_data
  bool submitted = false;  ///< our HEADERS (request or response) with the data source went to nghttp2

  bool released = false;    ///< the application's handle is gone: what arrives is dropped
  bool aborted = false;     ///< abort() or the handle is gone without shutdown_send
  bool closed = false;      ///< nghttp2 closed the stream
  sdk::error_code failure;  ///< the connection ended: every later operation fails with this
};

}  // namespace warren::http2

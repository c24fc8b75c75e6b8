#pragma once
// Everything about one QUIC stream that must outlive a single call: bytes in
// both directions and the one pending read and write. Shared by the
// connection (until ngtcp2 forgets the stream) and the application's
// sdk::StreamHandle (until it is destroyed).

#include "byte_ring.hpp"
#include "send_buffer.hpp"
#include "stream_window.hpp"

#include <warren/sdk/byte_stream.hpp>

#include <boost/asio/buffer.hpp>

#include <cstdint>

namespace warren::quic {

struct StreamState {
  explicit StreamState(std::int64_t stream_id) : id(stream_id) {}

  const std::int64_t id;

  // Receiving: bytes arrive in order. Stream credit (MAX_STREAM_DATA) goes
  // back only as the application reads them out of `received`, so the ring
  // never holds more than this stream's window. Connection credit
  // (MAX_DATA) goes back as soon as bytes land here once the application
  // holds the stream: a stream nobody reads then costs its own window and
  // nothing of the connection's, so it cannot starve the control stream or
  // fresh streams. A peer's stream not yet accepted keeps its bytes charged
  // to the connection window (`uncredited`) until it is.
  ByteRing received;
  StreamWindow window;           ///< grows the stream credit while the reader keeps up
  bool adopted = false;          ///< opened by us, or handed to the application by accept
  std::uint64_t uncredited = 0;  ///< bytes in `received` still charged to the connection window
  bool fin_received = false;    ///< the peer's FIN arrived; `received` holds the rest
  bool reset_received = false;  ///< the peer sent RESET_STREAM
  sdk::ReadHandler read_handler;
  boost::asio::mutable_buffer read_buffer;
  /// Bytes already copied into read_buffer for the pending read, which
  /// completes at the end of the batch of datagrams that brought them.
  std::size_t read_filled = 0;

  // Sending: the pending write completes once ngtcp2 has taken its bytes.
  SendBuffer outgoing;
  sdk::WriteHandler write_handler;
  std::size_t write_size = 0;
  std::uint64_t write_end = 0;  ///< stream offset the pending write reaches
  bool fin_requested = false;   ///< shutdown_send() was called
  bool fin_sent = false;
  bool stop_sending_received = false;  ///< the peer wants no more data
  bool queued = false;                 ///< in the connection's send queue
  bool urgent = false;                 ///< while queued: in SendScheduler's urgent class
  bool blocked = false;                ///< waiting for the peer's MAX_STREAM_DATA

  bool remote = false;          ///< opened by the peer: counts against max_streams
  bool released = false;        ///< the application's handle is gone
  bool aborted = false;         ///< abort() or the handle is gone
  bool read_abandoned = false;  ///< the handle is gone; the send side still drains
  bool closed = false;          ///< ngtcp2 has forgotten the stream
  sdk::error_code failure;      ///< the connection ended: every later operation fails with this

  bool wants_to_send() const {
    return !aborted && !closed && !stop_sending_received && !blocked &&
           (outgoing.has_unsent() || (fin_requested && !fin_sent));
  }
};

}  // namespace warren::quic

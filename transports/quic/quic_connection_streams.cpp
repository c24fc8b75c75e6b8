// Streams: the application's reads and writes, and ngtcp2's stream events.
// Flow control is the backpressure: stream credit returns to the peer only
// as the application reads, and a write completes only once ngtcp2 took its
// bytes. Connection credit returns as bytes land in a stream the
// application holds (see StreamState): each stream's window bounds what it
// buffers, so streams nobody reads never use up the connection's credit.

#include "clock.hpp"
#include "completion.hpp"
#include "quic_connection.hpp"

#include <warren/sdk/engine_handles.hpp>

#include <algorithm>
#include <cstring>
#include <utility>

namespace warren::quic {
namespace {

// The most one write copies in; the writer's next call follows its
// completion, so this bounds what waits beyond the peer's window.
constexpr std::size_t max_write_chunk = 256 * 1024;
// Application error code sent in RESET_STREAM / STOP_SENDING by abort().
constexpr std::uint64_t abort_error_code = 1;

sdk::error_code stream_reset() { return sdk::make_error_code(sdk::errc::stream_reset); }

}  // namespace

std::shared_ptr<StreamState> QuicConnection::add_stream(std::int64_t id) {
  auto stream = std::make_shared<StreamState>(id);
  streams_[id] = stream;
  ngtcp2_conn_set_stream_user_data(conn_, id, stream.get());
  return stream;
}

void QuicConnection::open_stream(sdk::StreamHandler handler) {
  if (failed_) {
    complete_later(executor_, std::move(handler), reason_, sdk::ByteStreamPtr());
    return;
  }
  open_handlers_.push_back(std::move(handler));
  try_open_streams();
}

void QuicConnection::try_open_streams() {
  while (!open_handlers_.empty() && !failed_) {
    std::int64_t id = -1;
    int rv = ngtcp2_conn_open_bidi_stream(conn_, &id, nullptr);
    if (rv == NGTCP2_ERR_STREAM_ID_BLOCKED) return;  // extend_max_local_streams_bidi calls again
    auto handler = std::move(open_handlers_.front());
    open_handlers_.pop_front();
    if (rv != 0) {
      complete_later(executor_, std::move(handler), sdk::make_error_code(sdk::errc::protocol_error),
                     sdk::ByteStreamPtr());
      continue;
    }
    auto state = add_stream(id);
    state->adopted = true;
    sdk::ByteStreamPtr stream =
        std::make_unique<sdk::StreamHandle<QuicConnection, StreamState>>(shared_from_this(), std::move(state));
    complete_later(executor_, std::move(handler), sdk::error_code(), std::move(stream));
  }
}

void QuicConnection::accept_stream(sdk::StreamHandler handler) {
  if (!accept_queue_.empty()) {
    auto state = std::move(accept_queue_.front());
    accept_queue_.pop_front();
    adopt(*state);
    sdk::ByteStreamPtr stream =
        std::make_unique<sdk::StreamHandle<QuicConnection, StreamState>>(shared_from_this(), std::move(state));
    complete_later(executor_, std::move(handler), sdk::error_code(), std::move(stream));
  } else if (failed_) {
    complete_later(executor_, std::move(handler), reason_, sdk::ByteStreamPtr());
  } else if (accept_handler_) {
    complete_later(executor_, std::move(handler), boost::asio::error::in_progress, sdk::ByteStreamPtr());
  } else {
    store_handler(accept_handler_, std::move(handler));
  }
}

void QuicConnection::read(const std::shared_ptr<StreamState>& stream, boost::asio::mutable_buffer buffer,
                          sdk::ReadHandler handler) {
  StreamState& s = *stream;
  auto finish = [&](sdk::error_code ec, std::size_t n) { complete_later(executor_, std::move(handler), ec, n); };
  if (s.read_handler) return finish(boost::asio::error::in_progress, 0);
  if (s.aborted) return finish(boost::asio::error::operation_aborted, 0);
  if (buffer.size() == 0) return finish({}, 0);
  if (!s.received.empty()) {
    std::size_t n = s.received.read(static_cast<std::uint8_t*>(buffer.data()), buffer.size());
    consume(s, n);
    return finish({}, n);
  }
  if (s.reset_received) return finish(stream_reset(), 0);
  if (s.fin_received) return finish(boost::asio::error::eof, 0);
  if (s.failure) return finish(s.failure, 0);
  if (failed_) return finish(reason_, 0);
  store_handler(s.read_handler, std::move(handler));
  s.read_buffer = buffer;
  s.read_filled = 0;
}

void QuicConnection::consume(StreamState& stream, std::size_t n) {
  // Only stream credit: the connection's went back when the bytes arrived.
  if (failed_ || n == 0 || stream.closed) return;
  give_stream_credit(stream, n);
  schedule_flush();
}

void QuicConnection::give_stream_credit(StreamState& stream, std::size_t n) {
  ngtcp2_conn_stat stat{};
  ngtcp2_conn_get_conn_stat(conn_, &stat);
  auto credit = stream.window.on_consumed(n, now_ns(), stat.smoothed_rtt, limits_.settings.initial_stream_window,
                                          limits_.settings.stream_window);
  ngtcp2_conn_extend_max_stream_offset(conn_, stream.id, credit);
}

void QuicConnection::adopt(StreamState& stream) {
  stream.adopted = true;
  return_connection_credit(stream);
}

void QuicConnection::return_connection_credit(StreamState& stream) {
  std::uint64_t n = std::exchange(stream.uncredited, 0);
  if (n == 0 || failed_) return;
  ngtcp2_conn_extend_max_offset(conn_, n);
  schedule_flush();
}

void QuicConnection::write(const std::shared_ptr<StreamState>& stream, boost::asio::const_buffer buffer,
                           sdk::WriteHandler handler) {
  StreamState& s = *stream;
  auto finish = [&](sdk::error_code ec, std::size_t n) { complete_later(executor_, std::move(handler), ec, n); };
  if (s.write_handler) return finish(boost::asio::error::in_progress, 0);
  if (s.aborted) return finish(boost::asio::error::operation_aborted, 0);
  // Closed: ngtcp2 forgot the stream (the peer's STOP_SENDING answered by
  // a reset, and our read side done); a write queued now would never go out.
  if (s.stop_sending_received || s.closed) return finish(stream_reset(), 0);
  if (s.failure) return finish(s.failure, 0);
  if (failed_) return finish(reason_, 0);
  if (s.fin_requested) return finish(boost::asio::error::shut_down, 0);
  if (buffer.size() == 0) return finish({}, 0);
  std::size_t n = std::min(buffer.size(), max_write_chunk);
  s.outgoing.append(static_cast<const std::uint8_t*>(buffer.data()), n);
  store_handler(s.write_handler, std::move(handler));
  s.write_size = n;
  s.write_end = s.outgoing.end_offset();
  enqueue(stream);
  schedule_flush();
}

void QuicConnection::shutdown_send(const std::shared_ptr<StreamState>& stream) {
  StreamState& s = *stream;
  if (s.aborted || s.fin_requested || s.failure || failed_) return;
  s.fin_requested = true;
  enqueue(stream);
  schedule_flush();
}

void QuicConnection::abort(const std::shared_ptr<StreamState>& stream) {
  StreamState& s = *stream;
  if (s.aborted) return;
  s.aborted = true;
  s.read_filled = 0;
  complete_if_pending(executor_, s.read_handler, boost::asio::error::operation_aborted, std::size_t{0});
  complete_if_pending(executor_, s.write_handler, boost::asio::error::operation_aborted, std::size_t{0});
  discard_received(s);
  if (!s.closed && !failed_) {
    ngtcp2_conn_shutdown_stream(conn_, s.id, abort_error_code);
    schedule_flush();
  }
}

void QuicConnection::release(const std::shared_ptr<StreamState>& stream) {
  StreamState& s = *stream;
  s.released = true;
  return_stream_credit(s);
  if (!s.fin_requested || s.stop_sending_received || s.closed || failed_) return abort(stream);
  // Half-closed: let the written bytes and the FIN go out; refuse the rest.
  s.read_filled = 0;
  complete_if_pending(executor_, s.read_handler, boost::asio::error::operation_aborted, std::size_t{0});
  complete_if_pending(executor_, s.write_handler, boost::asio::error::operation_aborted, std::size_t{0});
  discard_received(s);
  if (!s.fin_received && !s.reset_received) ngtcp2_conn_shutdown_stream_read(conn_, s.id, abort_error_code);
  s.read_abandoned = true;
  schedule_flush();
}

void QuicConnection::return_stream_credit(StreamState& stream) {
  // A peer's stream stops counting against max_streams only when ngtcp2 is
  // done with it and so is the application: until then its buffer is ours
  // to keep, and the limit is what bounds those buffers.
  if (stream.remote && stream.closed && stream.released && !failed_) {
    stream.remote = false;  // once
    ngtcp2_conn_extend_max_streams_bidi(conn_, 1);
    schedule_flush();
  }
}

void QuicConnection::discard_received(StreamState& stream) {
  stream.received.clear();
  // Bytes nobody will read must not stay charged to the connection window.
  return_connection_credit(stream);
}

void QuicConnection::enqueue(const std::shared_ptr<StreamState>& stream) { send_queue_.enqueue(stream); }

void QuicConnection::complete_filled_reads() {
  auto filled = std::move(filled_reads_);
  filled_reads_.clear();
  for (auto& stream : filled) {
    std::size_t n = std::exchange(stream->read_filled, 0);
    if (n > 0) complete_if_pending(executor_, stream->read_handler, sdk::error_code(), n);
  }
}

void QuicConnection::complete_read(StreamState& stream, sdk::error_code ec) {
  std::size_t n = std::exchange(stream.read_filled, 0);
  if (n > 0)
    complete_if_pending(executor_, stream.read_handler, sdk::error_code(), n);
  else
    complete_if_pending(executor_, stream.read_handler, ec, std::size_t{0});
}

void QuicConnection::fail_streams(sdk::error_code reason) {
  for (auto& [id, stream] : streams_) {
    stream->failure = reason;
    complete_read(*stream, reason);
    complete_if_pending(executor_, stream->write_handler, reason, std::size_t{0});
    // ngtcp2 will write nothing more: no pointers into these remain in use.
    stream->outgoing.clear();
    stream->received.clear();
  }
  complete_if_pending(executor_, accept_handler_, reason, sdk::ByteStreamPtr());
  for (auto& handler : open_handlers_) complete_later(executor_, std::move(handler), reason, sdk::ByteStreamPtr());
  open_handlers_.clear();
  send_queue_.clear();
}

int QuicConnection::on_stream_open(std::int64_t id) {
  auto stream = add_stream(id);
  stream->remote = true;
  if (accept_handler_) {
    stream->adopted = true;
    sdk::ByteStreamPtr handle =
        std::make_unique<sdk::StreamHandle<QuicConnection, StreamState>>(shared_from_this(), std::move(stream));
    complete_if_pending(executor_, accept_handler_, sdk::error_code(), std::move(handle));
  } else {
    accept_queue_.push_back(std::move(stream));
  }
  return 0;
}

int QuicConnection::on_recv_stream_data(std::uint32_t flags, std::int64_t id, const std::uint8_t* data, std::size_t len,
                                        StreamState* stream) {
  if (!stream || stream->aborted || stream->read_abandoned) {
    // Nobody will read these: hand the credit straight back.
    ngtcp2_conn_extend_max_stream_offset(conn_, id, len);
    ngtcp2_conn_extend_max_offset(conn_, len);
    return 0;
  }
  StreamState& s = *stream;
  std::size_t delivered = 0;
  if (s.read_handler && len > 0) {
    // A reader is waiting, so nothing is buffered: copy straight to it. The
    // read completes at the end of this batch of datagrams (end_of_batch),
    // so it carries every packet the batch brought, not only the first:
    // one write on the other side of the splice instead of two or three.
    // Once its buffer is full, the rest waits in `received`, in order.
    delivered = std::min(len, s.read_buffer.size() - s.read_filled);
    if (delivered > 0) {
      std::memcpy(static_cast<std::uint8_t*>(s.read_buffer.data()) + s.read_filled, data, delivered);
      bool first = s.read_filled == 0;
      s.read_filled += delivered;
      give_stream_credit(s, delivered);
      if (first) {
        auto it = streams_.find(id);
        if (it != streams_.end())
          filled_reads_.push_back(it->second);
        else
          complete_read(s, {});  // not ours to hold until end_of_batch: complete now
      }
    }
  }
  s.received.append(data + delivered, len - delivered);
  if (s.adopted) {
    ngtcp2_conn_extend_max_offset(conn_, len);
  } else {
    s.uncredited += len;  // returned when accept_stream hands it out
  }
  if (flags & NGTCP2_STREAM_DATA_FLAG_FIN) {
    s.fin_received = true;
    complete_read(s, boost::asio::error::eof);  // bytes filled first: the next read gets the EOF
  }
  return 0;
}

int QuicConnection::on_acked_stream_data(std::uint64_t offset, std::uint64_t len, StreamState* stream) {
  if (stream) stream->outgoing.acknowledge(offset + len);
  return 0;
}

int QuicConnection::on_stream_close(std::int64_t id, StreamState* stream) {
  if (stream) {
    stream->closed = true;
    stream->outgoing.clear();  // ngtcp2 holds no pointers into it any more
    complete_read(*stream, stream_reset());
    complete_if_pending(executor_, stream->write_handler, stream_reset(), std::size_t{0});
    return_stream_credit(*stream);
  }
  streams_.erase(id);
  return 0;
}

int QuicConnection::on_stream_reset(StreamState* stream) {
  if (!stream) return 0;
  stream->reset_received = true;
  discard_received(*stream);
  complete_read(*stream, stream_reset());
  return 0;
}

int QuicConnection::on_stream_stop_sending(StreamState* stream) {
  if (!stream) return 0;
  // ngtcp2 answers STOP_SENDING with RESET_STREAM by itself.
  stream->stop_sending_received = true;
  complete_if_pending(executor_, stream->write_handler, stream_reset(), std::size_t{0});
  return 0;
}

int QuicConnection::on_extend_max_local_streams() {
  try_open_streams();
  return 0;
}

int QuicConnection::on_extend_max_stream_data(std::int64_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return 0;
  it->second->blocked = false;
  enqueue(it->second);
  return 0;
}

}  // namespace warren::quic

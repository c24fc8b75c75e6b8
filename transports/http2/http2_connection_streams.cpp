// Streams: opening (natively on the edge's side, by claiming a reverse
// stream on the connector's), accepting, reading, writing, closing.

#include "h2_session.hpp"
#include "http2_connection.hpp"

#include <warren/sdk/completion.hpp>
#include <warren/sdk/engine_handles.hpp>

#include <cstring>

namespace warren::http2 {
namespace {

using sdk::complete_if_pending;
using sdk::complete_later;
using sdk::store_handler;

nghttp2_nv header(std::string_view name, std::string_view value) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE};
}

}  // namespace

std::shared_ptr<StreamState> Http2Connection::add_stream(std::int32_t id) {
  auto stream = std::make_shared<StreamState>(id);
  streams_[id] = stream;
  return stream;
}

sdk::ByteStreamPtr Http2Connection::adopt(const std::shared_ptr<StreamState>& stream) {
  stream->adopted = true;
  if (stream->uncredited > 0 && session_ && !stream->closed)
    nghttp2_session_consume_connection(session_, stream->uncredited);
  stream->uncredited = 0;
  return std::make_unique<sdk::StreamHandle<Http2Connection, StreamState>>(shared_from_this(), stream);
}

std::shared_ptr<StreamState> Http2Connection::submit_request(bool reverse) {
  auto stream = std::make_shared<StreamState>();
  stream->reverse = reverse;
  const nghttp2_nv request[] = {header(":method", "CONNECT"), header(":authority", authority),
                                header(stream_kind_header, reverse ? kind_reverse : kind_open)};
  nghttp2_data_provider source{};
  source.source.ptr = stream.get();
  source.read_callback = read_source_trampoline;
  std::int32_t id = nghttp2_submit_request(session_, nullptr, request, std::size(request), &source, nullptr);
  if (id < 0) return nullptr;
  stream->id = id;
  stream->submitted = true;
  streams_[id] = stream;
  return stream;
}

void Http2Connection::top_up_reverse() {
  if (!h2_client_ || failure_ || remote_goaway_ || !session_) return;
  while (reverse_outstanding_ < limits_.settings.reverse_streams) {
    if (!submit_request(true)) break;
    ++reverse_outstanding_;
  }
}

void Http2Connection::claim_reverse(sdk::StreamHandler handler) {
  auto id = idle_reverse_.front();
  idle_reverse_.pop_front();
  auto stream = streams_.at(id);
  const nghttp2_nv status[] = {header(":status", "200")};
  nghttp2_data_provider source{};
  source.source.ptr = stream.get();
  source.read_callback = read_source_trampoline;
  if (nghttp2_submit_response(session_, id, status, std::size(status), &source) != 0) {
    open_waiters_.push_front(std::move(handler));
    return;
  }
  stream->submitted = true;
  stream->claimed = true;
  complete_later(executor_, std::move(handler), sdk::error_code(), adopt(stream));
}

void Http2Connection::open_stream(sdk::StreamHandler handler) {
  if (failure_) return complete_later(executor_, std::move(handler), failure_, sdk::ByteStreamPtr());
  if (h2_client_) {
    auto stream = submit_request(false);
    if (!stream)
      return complete_later(executor_, std::move(handler), sdk::make_error_code(sdk::errc::stream_limit),
                            sdk::ByteStreamPtr());
    complete_later(executor_, std::move(handler), sdk::error_code(), adopt(stream));
  } else if (!idle_reverse_.empty()) {
    claim_reverse(std::move(handler));
  } else {
    // The edge tops its reverse streams up as they are claimed; wait for one.
    open_waiters_.push_back(std::move(handler));
  }
  flush();
}

void Http2Connection::deliver_accept(std::shared_ptr<StreamState> stream) {
  if (accept_handler_) {
    sdk::StreamHandler handler;
    store_handler(handler, std::move(accept_handler_));
    accept_handler_ = nullptr;
    complete_later(executor_, std::move(handler), sdk::error_code(), adopt(stream));
    return;
  }
  ready_streams_.push_back(std::move(stream));
}

void Http2Connection::accept_stream(sdk::StreamHandler handler) {
  if (!ready_streams_.empty()) {
    auto stream = std::move(ready_streams_.front());
    ready_streams_.pop_front();
    complete_later(executor_, std::move(handler), sdk::error_code(), adopt(stream));
    flush();  // the connection window the stream's bytes held goes back
    return;
  }
  if (failure_) return complete_later(executor_, std::move(handler), failure_, sdk::ByteStreamPtr());
  store_handler(accept_handler_, std::move(handler));
}

void Http2Connection::serve_read(StreamState& stream) {
  if (!stream.read_handler) return;
  auto done = [&](sdk::error_code ec, std::size_t n) {
    stream.read_buffer = {};
    complete_if_pending(executor_, stream.read_handler, ec, n);
  };
  if (stream.aborted) return done(boost::asio::error::operation_aborted, 0);
  if (!stream.received.empty()) {
    auto n = stream.received.take(static_cast<std::uint8_t*>(stream.read_buffer.data()), stream.read_buffer.size());
    if (session_ && !stream.closed) nghttp2_session_consume_stream(session_, stream.id, n);
    return done({}, n);
  }
  if (stream.fin_received) return done(boost::asio::error::eof, 0);
  if (stream.reset_received) return done(sdk::make_error_code(sdk::errc::stream_reset), 0);
  if (stream.failure) return done(stream.failure, 0);
}

void Http2Connection::serve_write(StreamState& stream) {
  if (!stream.write_handler) return;
  auto done = [&](sdk::error_code ec, std::size_t n) {
    stream.write_buffer = {};
    complete_if_pending(executor_, stream.write_handler, ec, n);
  };
  if (stream.aborted) return done(boost::asio::error::operation_aborted, 0);
  if (stream.failure) return done(stream.failure, 0);
  if (stream.reset_received || stream.closed) return done(sdk::make_error_code(sdk::errc::stream_reset), 0);
  std::size_t room = stream_send_buffer - std::min(stream_send_buffer, stream.outgoing.size());
  if (room == 0) return;
  std::size_t n = std::min(room, stream.write_buffer.size());
  stream.outgoing.append(static_cast<const std::uint8_t*>(stream.write_buffer.data()), n);
  done({}, n);
}

void Http2Connection::resume(StreamState& stream) {
  if (!stream.deferred || stream.closed || !session_ || failure_) return;
  stream.deferred = false;
  nghttp2_session_resume_data(session_, stream.id);
}

void Http2Connection::read(const std::shared_ptr<StreamState>& stream, boost::asio::mutable_buffer buffer,
                           sdk::ReadHandler handler) {
  if (stream->read_handler)
    return complete_later(executor_, std::move(handler), sdk::error_code(boost::asio::error::in_progress),
                          std::size_t{0});
  if (buffer.size() == 0) return complete_later(executor_, std::move(handler), sdk::error_code(), std::size_t{0});
  store_handler(stream->read_handler, std::move(handler));
  stream->read_buffer = buffer;
  serve_read(*stream);
  flush();  // a read gives window back
}

void Http2Connection::write(const std::shared_ptr<StreamState>& stream, boost::asio::const_buffer buffer,
                            sdk::WriteHandler handler) {
  if (stream->write_handler)
    return complete_later(executor_, std::move(handler), sdk::error_code(boost::asio::error::in_progress),
                          std::size_t{0});
  if (stream->fin_requested && !stream->aborted)
    return complete_later(executor_, std::move(handler), sdk::error_code(boost::asio::error::broken_pipe),
                          std::size_t{0});
  if (buffer.size() == 0 && !stream->aborted && !stream->failure)
    return complete_later(executor_, std::move(handler), sdk::error_code(), std::size_t{0});
  store_handler(stream->write_handler, std::move(handler));
  stream->write_buffer = buffer;
  serve_write(*stream);
  resume(*stream);
  flush();
}

void Http2Connection::shutdown_send(const std::shared_ptr<StreamState>& stream) {
  if (stream->fin_requested || stream->aborted || stream->closed) return;
  stream->fin_requested = true;
  resume(*stream);
  flush();
}

void Http2Connection::abort(const std::shared_ptr<StreamState>& stream) {
  if (stream->aborted) return;
  stream->aborted = true;
  serve_read(*stream);
  serve_write(*stream);
  stream->received.clear();
  stream->outgoing.clear();
  if (!stream->closed && stream->submitted && session_ && !failure_) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream->id, NGHTTP2_CANCEL);
    flush();
  }
}

void Http2Connection::release(const std::shared_ptr<StreamState>& stream) {
  stream->released = true;
  bool draining =
      stream->fin_requested && !stream->aborted && !stream->closed && !stream->reset_received && !stream->failure;
  if (!draining) return abort(stream);
  // What was written still goes out with END_STREAM; what arrives is dropped.
  stream->read_buffer = {};
  complete_if_pending(executor_, stream->read_handler, sdk::error_code(boost::asio::error::operation_aborted),
                      std::size_t{0});
  if (session_ && !failure_ && !stream->received.empty())
    nghttp2_session_consume_stream(session_, stream->id, stream->received.size());
  stream->received.clear();
  flush();
}

void Http2Connection::fail_streams(const sdk::error_code& reason) {
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, stream] : streams) {
    stream->failure = reason;
    serve_read(*stream);
    serve_write(*stream);
  }
  ready_streams_.clear();
  idle_reverse_.clear();
  complete_if_pending(executor_, accept_handler_, reason, sdk::ByteStreamPtr());
  auto waiters = std::move(open_waiters_);
  open_waiters_.clear();
  for (auto& handler : waiters) complete_later(executor_, std::move(handler), reason, sdk::ByteStreamPtr());
}

}  // namespace warren::http2

// The nghttp2 session: its settings and the callbacks through which it
// tells the connection what arrived. Callbacks only change stream state and
// post completions; they never complete a handler inline.

#include "h2_session.hpp"
#include "http2_connection.hpp"

namespace warren::http2 {
namespace {

Http2Connection& owner(void* user_data) { return *static_cast<Http2Connection*>(user_data); }

int begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  return owner(user_data).on_begin_headers(frame->hd.stream_id);
}

int header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name, std::size_t name_size,
           const std::uint8_t* value, std::size_t value_size, std::uint8_t, void* user_data) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  return owner(user_data).on_header(frame->hd.stream_id,
                                    std::string_view(reinterpret_cast<const char*>(name), name_size),
                                    std::string_view(reinterpret_cast<const char*>(value), value_size));
}

int frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  return owner(user_data).on_frame_recv(*frame);
}

int data_chunk(nghttp2_session*, std::uint8_t, std::int32_t stream_id, const std::uint8_t* data, std::size_t size,
               void* user_data) {
  return owner(user_data).on_data(stream_id, data, size);
}

int stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code, void* user_data) {
  return owner(user_data).on_stream_close(stream_id, error_code);
}

}  // namespace

bool Http2Connection::start_session() {
  nghttp2_session_callbacks* callbacks = nullptr;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) return false;
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, stream_close);
  nghttp2_option* option = nullptr;
  if (nghttp2_option_new(&option) != 0) {
    nghttp2_session_callbacks_del(callbacks);
    return false;
  }
  // Window updates go back only as the application reads (backpressure).
  nghttp2_option_set_no_auto_window_update(option, 1);
  int rv = h2_client_ ? nghttp2_session_client_new2(&session_, callbacks, this, option)
                      : nghttp2_session_server_new2(&session_, callbacks, this, option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) return false;

  const auto& s = limits_.settings;
  std::vector<nghttp2_settings_entry> entries = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s.max_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, s.stream_window},
  };
  if (h2_client_) entries.push_back({NGHTTP2_SETTINGS_ENABLE_PUSH, 0});
  if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, entries.data(), entries.size()) != 0) return false;
  if (nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                            static_cast<std::int32_t>(s.connection_window)) != 0)
    return false;
  if (h2_client_) top_up_reverse();
  return true;
}

int Http2Connection::on_begin_headers(std::int32_t stream_id) {
  if (h2_client_) return NGHTTP2_ERR_CALLBACK_FAILURE;  // the connector's side never opens a stream
  add_stream(stream_id);
  return 0;
}

int Http2Connection::on_header(std::int32_t stream_id, std::string_view name, std::string_view value) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return 0;
  if (!h2_client_ && name == stream_kind_header) it->second->reverse = value == kind_reverse;
  if (h2_client_ && name == ":status" && value != "200")
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_REFUSED_STREAM);
  return 0;
}

int Http2Connection::on_frame_recv(const nghttp2_frame& frame) {
  if (frame.hd.type == NGHTTP2_GOAWAY) {
    remote_goaway_ = reason_of_goaway(frame.goaway.error_code);
    return 0;
  }
  if (frame.hd.type != NGHTTP2_HEADERS && frame.hd.type != NGHTTP2_DATA) return 0;
  auto it = streams_.find(frame.hd.stream_id);
  if (it == streams_.end()) return 0;
  auto stream = it->second;
  if (frame.hd.type == NGHTTP2_HEADERS) {
    if (!h2_client_ && frame.headers.cat == NGHTTP2_HCAT_REQUEST) {
      if (stream->reverse) {
        idle_reverse_.push_back(stream->id);
        if (!open_waiters_.empty()) {
          auto handler = std::move(open_waiters_.front());
          open_waiters_.pop_front();
          claim_reverse(std::move(handler));
        }
      } else {
        nghttp2_nv status{reinterpret_cast<std::uint8_t*>(const_cast<char*>(":status")),
                          reinterpret_cast<std::uint8_t*>(const_cast<char*>("200")), 7, 3, NGHTTP2_NV_FLAG_NONE};
        nghttp2_data_provider source{};
        source.source.ptr = stream.get();
        source.read_callback = read_source_trampoline;
        if (nghttp2_submit_response(session_, stream->id, &status, 1, &source) != 0) return 0;
        stream->submitted = true;
        deliver_accept(stream);
      }
    } else if (h2_client_ && frame.headers.cat == NGHTTP2_HCAT_RESPONSE && stream->reverse && !stream->claimed) {
      stream->claimed = true;
      --reverse_outstanding_;
      deliver_accept(stream);
      top_up_reverse();
    }
  }
  if (frame.hd.flags & NGHTTP2_FLAG_END_STREAM) {
    stream->fin_received = true;
    serve_read(*stream);
  }
  return 0;
}

int Http2Connection::on_data(std::int32_t stream_id, const std::uint8_t* data, std::size_t size) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) {
    nghttp2_session_consume_connection(session_, size);
    return 0;
  }
  auto& stream = *it->second;
  if (stream.released || stream.aborted) {
    nghttp2_session_consume(session_, stream_id, size);  // nobody will read: give both windows back
    return 0;
  }
  stream.received.append(data, size);
  if (stream.adopted)
    nghttp2_session_consume_connection(session_, size);
  else
    stream.uncredited += size;
  serve_read(stream);
  return 0;
}

int Http2Connection::on_stream_close(std::int32_t stream_id, std::uint32_t error_code) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return 0;
  auto stream = std::move(it->second);
  streams_.erase(it);
  stream->closed = true;
  if (!stream->aborted && (error_code != NGHTTP2_NO_ERROR || !stream->fin_received)) stream->reset_received = true;
  if (!stream->adopted && stream->uncredited > 0) nghttp2_session_consume_connection(session_, stream->uncredited);
  stream->uncredited = 0;
  std::erase(idle_reverse_, stream_id);
  std::erase(ready_streams_, stream);
  if (h2_client_ && stream->reverse && !stream->claimed) {
    --reverse_outstanding_;
    top_up_reverse();
  }
  serve_read(*stream);
  serve_write(*stream);
  return 0;
}

ssize_t Http2Connection::read_source(StreamState& stream, std::uint8_t* buffer, std::size_t size,
                                     std::uint32_t* flags) {
  std::size_t n = stream.outgoing.take(buffer, size);
  serve_write(stream);  // room in `outgoing`: a waiting write moves in
  if (stream.outgoing.empty() && !stream.write_handler && stream.fin_requested) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    stream.fin_sent = true;
    return static_cast<ssize_t>(n);
  }
  if (n == 0) {
    stream.deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  return static_cast<ssize_t>(n);
}

ssize_t Http2Connection::read_source_trampoline(nghttp2_session*, std::int32_t, std::uint8_t* buffer, std::size_t size,
                                                std::uint32_t* flags, nghttp2_data_source* source, void* user_data) {
  return owner(user_data).read_source(*static_cast<StreamState*>(source->ptr), buffer, size, flags);
}

}  // namespace warren::http2

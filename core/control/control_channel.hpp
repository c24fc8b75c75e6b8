#pragma once
// Framed control messages over one stream: the first stream of every
// connection. Reads go through the strict ControlDecoder; writes go out one
// frame at a time from a queue, so callers may send at any moment.

#include "core/protocol/frame_decoder.hpp"
#include "core/protocol/frame_encoder.hpp"
#include "core/protocol/messages.hpp"

#include <warren/sdk/byte_stream.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <vector>

namespace warren::core {

class ControlChannel : public std::enable_shared_from_this<ControlChannel> {
 public:
  using ReadHandler = std::function<void(sdk::error_code, protocol::ControlMessage)>;

  explicit ControlChannel(sdk::ByteStreamPtr stream);

  /// The next message. EOF completes with errc::peer_closed; a malformed or
  /// oversized frame with errc::protocol_error (protocol_error_reason() says
  /// why). At most one read may be pending.
  void async_read(ReadHandler handler);

  /// Queues `message`. A write failure aborts the stream, which ends the
  /// pending read with the error.
  void send(const protocol::ControlMessage& message);

  /// Half-closes after everything queued has been written.
  void close_after_sends();
  void abort();

  const std::string& protocol_error_reason() const { return protocol_error_; }
  sdk::ByteStream& stream() { return *stream_; }

 private:
  void deliver_buffered(ReadHandler handler);
  void write_next();

  sdk::ByteStreamPtr stream_;
  protocol::ControlDecoder decoder_;
  std::vector<std::uint8_t> buffer_;
  std::size_t buffered_ = 0;  ///< bytes of buffer_ not yet given to the decoder
  std::deque<protocol::FrameBytes> outbox_;
  bool writing_ = false;
  bool close_when_sent_ = false;
  std::string protocol_error_;
};

/// Reads a data stream's StreamHeader; `rest` holds the client bytes that
/// arrived with it. Malformed headers complete with errc::protocol_error.
using HeaderHandler =
    boost::asio::any_completion_handler<void(sdk::error_code, protocol::StreamHeader, std::vector<std::uint8_t> rest)>;
void async_read_stream_header(sdk::ByteStream& stream, HeaderHandler handler);

/// Writes `header` as the first frame of a data stream.
void async_write_stream_header(sdk::ByteStream& stream, const protocol::StreamHeader& header,
                               boost::asio::any_completion_handler<void(sdk::error_code)> handler);

/// Writes `reply` as the connector's first frame on a data stream (only when
/// both sides set stream_replies; the edge reads it inside ReplayableStream).
void async_write_stream_reply(sdk::ByteStream& stream, const protocol::StreamReply& reply,
                              boost::asio::any_completion_handler<void(sdk::error_code)> handler);

}  // namespace warren::core

#pragma once
// Reads framed messages from a byte stream, Asio-parser style: feed what
// arrived, get good / bad / need-more and how many bytes were used. Strict
// by design: frame size, segment count, traversal and nesting limits, known
// union members and message_rules. Malformed input yields `bad` with a
// reason; no exception leaves parse().

#include "core/protocol/frame_assembler.hpp"
#include "core/protocol/messages.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace warren::core::protocol {

template <typename Message>
struct ParseResult {
  ParseStatus status = ParseStatus::need_more;
  std::size_t consumed = 0;        ///< bytes of the input used; the rest belongs to what follows
  std::optional<Message> message;  ///< set when status is good
  std::string reason;              ///< set when status is bad
};

/// Decodes one Message per frame. A control stream uses ControlDecoder for
/// its whole life; a data stream uses StreamHeaderDecoder once, and the bytes
/// after `consumed` are the client's.
template <typename Message>
class FrameDecoder {
 public:
  explicit FrameDecoder(FrameLimits limits = default_limits()) : frames_(limits) {}

  /// Takes bytes up to the end of the next complete frame. Loop while the
  /// result is good and bytes remain. After `bad` the decoder stays bad.
  ParseResult<Message> parse(const std::uint8_t* begin, const std::uint8_t* end) noexcept;
  ParseResult<Message> parse(std::span<const std::uint8_t> bytes) noexcept {
    return parse(bytes.data(), bytes.data() + bytes.size());
  }

  /// True when no partial frame is buffered (a clean place for the stream to end).
  bool between_frames() const noexcept { return frames_.between_frames(); }

  static FrameLimits default_limits();

 private:
  FrameAssembler frames_;
};

using ControlDecoder = FrameDecoder<ControlMessage>;
using StreamHeaderDecoder = FrameDecoder<StreamHeader>;
/// A data stream's first frame from the connector, when both sides set stream_replies.
using StreamReplyDecoder = FrameDecoder<StreamReply>;

extern template class FrameDecoder<ControlMessage>;
extern template class FrameDecoder<StreamHeader>;
extern template class FrameDecoder<StreamReply>;

}  // namespace warren::core::protocol

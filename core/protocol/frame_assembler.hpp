#pragma once
// Collects one Cap'n Proto stream frame at a time from bytes arriving in any
// pieces. It reads the segment table first and refuses a frame that would be
// too large before buffering its body, then copies the body straight into
// word-aligned storage (FlatArrayMessageReader needs aligned words).
// Sans-io: bytes in, a status out, no sockets.

#include <capnp/common.h>
#include <kj/array.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace warren::core::protocol {

enum class ParseStatus {
  good,       ///< a whole frame (or message) is ready
  bad,        ///< the input is malformed; the stream must be closed
  need_more,  ///< every byte given was taken; feed more
};

/// Bounds applied to every frame. Defaults suit control streams.
struct FrameLimits {
  /// Upper bound on any segment count; Cap'n Proto itself allows 512.
  static constexpr std::uint32_t kSegmentCap = 64;

  std::size_t max_frame_bytes = 64 * 1024;  ///< segment table included
  std::uint32_t max_segments = 8;           ///< at most kSegmentCap
  std::uint64_t traversal_limit_words = 64 * 1024 / 8;  ///< ReaderOptions: words read in total
  int nesting_limit = 8;                                ///< ReaderOptions: pointer depth

  static FrameLimits control() { return {}; }
  /// A data stream's header is a few short strings.
  static FrameLimits stream_header() { return {4 * 1024, 4, 4 * 1024 / 8, 8}; }
  /// A stream reply is a union tag and an enum (24 bytes framed); the room
  /// left is for a few fields a newer connector may add.
  static FrameLimits stream_reply() { return {128, 1, 128 / 8, 2}; }
};

class FrameAssembler {
 public:
  struct Result {
    ParseStatus status;
    std::size_t consumed;  ///< bytes taken from the input
  };

  explicit FrameAssembler(FrameLimits limits);

  /// Takes bytes from [begin, end) up to the end of the current frame.
  /// After `good`, frame() holds it until the next call. After `bad`, every
  /// call returns `bad` again and error() says why.
  Result parse(const std::uint8_t* begin, const std::uint8_t* end);

  kj::ArrayPtr<const capnp::word> frame() const { return frame_.asPtr(); }
  const std::string& error() const { return error_; }
  const FrameLimits& limits() const { return limits_; }
  /// True when no partial frame is buffered: an end of stream here is clean,
  /// anywhere else it truncated a frame.
  bool between_frames() const noexcept { return !failed_ && (complete_ || header_filled_ == 0); }
  /// Marks the stream bad from above (e.g. a frame whose content is invalid).
  Result fail(std::string reason);

 private:
  /// Reads the segment table from header_; false (and failed) if it is refused.
  bool accept_segment_table();
  void start_next_frame();

  static constexpr std::size_t kMaxHeaderBytes = 4 * (FrameLimits::kSegmentCap + 2);

  FrameLimits limits_;
  std::array<std::uint8_t, kMaxHeaderBytes> header_{};
  std::size_t header_filled_ = 0;
  std::size_t header_bytes_ = 4;  ///< 4 until the segment count is known
  bool count_known_ = false;
  kj::Array<capnp::word> frame_;  ///< empty until the table is accepted
  std::size_t frame_filled_ = 0;  ///< bytes of frame_ written
  bool complete_ = false;
  bool failed_ = false;
  std::string error_;
};

}  // namespace warren::core::protocol

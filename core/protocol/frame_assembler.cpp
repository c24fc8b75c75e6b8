#include "core/protocol/frame_assembler.hpp"

#include <algorithm>
#include <cstring>

namespace warren::core::protocol {
namespace {

std::uint32_t read_u32_le(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

}  // namespace

FrameAssembler::FrameAssembler(FrameLimits limits) : limits_(limits) {
  limits_.max_segments = std::clamp<std::uint32_t>(limits_.max_segments, 1, FrameLimits::kSegmentCap);
}

FrameAssembler::Result FrameAssembler::fail(std::string reason) {
  failed_ = true;
  error_ = std::move(reason);
  frame_ = nullptr;
  return {ParseStatus::bad, 0};
}

void FrameAssembler::start_next_frame() {
  header_filled_ = 0;
  header_bytes_ = 4;
  count_known_ = false;
  frame_ = nullptr;
  frame_filled_ = 0;
  complete_ = false;
}

bool FrameAssembler::accept_segment_table() {
  if (!count_known_) {
    // The first word holds (segment count - 1); compute in 64 bits so
    // 0xffffffff cannot wrap to zero segments.
    std::uint64_t count = std::uint64_t{read_u32_le(header_.data())} + 1;
    if (count > limits_.max_segments) {
      fail("frame has " + std::to_string(count) + " segments, limit " + std::to_string(limits_.max_segments));
      return false;
    }
    count_known_ = true;
    // Count word plus one size word per segment, padded to a whole word.
    header_bytes_ = ((1 + count) * 4 + 7) / 8 * 8;
    return true;
  }
  std::uint64_t count = std::uint64_t{read_u32_le(header_.data())} + 1;
  std::uint64_t body_words = 0;
  for (std::uint64_t i = 0; i < count; ++i) body_words += read_u32_le(header_.data() + 4 + 4 * i);
  std::uint64_t total_bytes = header_bytes_ + body_words * 8;  // at most 64 * 2^32 words: no overflow
  if (total_bytes > limits_.max_frame_bytes) {
    fail("frame of " + std::to_string(total_bytes) + " bytes exceeds the limit of " +
         std::to_string(limits_.max_frame_bytes));
    return false;
  }
  frame_ = kj::heapArray<capnp::word>(total_bytes / 8);
  std::memcpy(frame_.begin(), header_.data(), header_bytes_);
  frame_filled_ = header_bytes_;
  return true;
}

FrameAssembler::Result FrameAssembler::parse(const std::uint8_t* begin, const std::uint8_t* end) {
  if (failed_) return {ParseStatus::bad, 0};
  if (complete_) start_next_frame();
  const std::uint8_t* p = begin;
  while (frame_.size() == 0) {
    std::size_t take = std::min<std::size_t>(header_bytes_ - header_filled_, static_cast<std::size_t>(end - p));
    if (take > 0) std::memcpy(header_.data() + header_filled_, p, take);
    header_filled_ += take;
    p += take;
    if (header_filled_ < header_bytes_) return {ParseStatus::need_more, static_cast<std::size_t>(p - begin)};
    if (!accept_segment_table()) return {ParseStatus::bad, static_cast<std::size_t>(p - begin)};
  }
  auto* bytes = reinterpret_cast<std::uint8_t*>(frame_.begin());
  std::size_t want = frame_.size() * sizeof(capnp::word) - frame_filled_;
  std::size_t take = std::min<std::size_t>(want, static_cast<std::size_t>(end - p));
  if (take > 0) std::memcpy(bytes + frame_filled_, p, take);
  frame_filled_ += take;
  p += take;
  if (take < want) return {ParseStatus::need_more, static_cast<std::size_t>(p - begin)};
  complete_ = true;
  return {ParseStatus::good, static_cast<std::size_t>(p - begin)};
}

}  // namespace warren::core::protocol

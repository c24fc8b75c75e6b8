// How the decoder meets a byte stream: split reads, frames back to back,
// the bytes that follow a stream header, and frames refused from their
// segment table alone.

#include "core/protocol/frame_decoder.hpp"
#include "core/protocol/frame_encoder.hpp"
#include "sample_messages.hpp"

#include <catch2/catch.hpp>

using namespace warren::core::protocol;
using namespace std::chrono_literals;

namespace {

void put_u32(FrameBytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// A segment table alone: count words and sizes, padded to a word.
FrameBytes segment_table(std::vector<std::uint32_t> sizes) {
  FrameBytes out;
  put_u32(out, static_cast<std::uint32_t>(sizes.size() - 1));
  for (auto s : sizes) put_u32(out, s);
  while (out.size() % 8 != 0) out.push_back(0);
  return out;
}

}  // namespace

TEST_CASE("a frame delivered one byte at a time needs more until its last byte", "[protocol]") {
  for (const auto& message : test::every_control_message()) {
    auto bytes = *encode(message);
    ControlDecoder decoder;
    for (std::size_t i = 0; i + 1 < bytes.size(); ++i) {
      auto step = decoder.parse(&bytes[i], &bytes[i] + 1);
      REQUIRE(step.status == ParseStatus::need_more);
      REQUIRE(step.consumed == 1);
      REQUIRE_FALSE(decoder.between_frames());
    }
    auto last = decoder.parse(&bytes.back(), &bytes.back() + 1);
    REQUIRE(last.status == ParseStatus::good);
    CHECK(last.consumed == 1);
    CHECK(*last.message == message);
    CHECK(decoder.between_frames());
  }
}

TEST_CASE("two frames in one buffer decode one per call", "[protocol]") {
  ControlMessage first = Heartbeat{1, 100};
  ControlMessage second = Unregister{5s};
  auto buffer = *encode(first);
  auto tail = *encode(second);
  std::size_t first_size = buffer.size();
  buffer.insert(buffer.end(), tail.begin(), tail.end());

  ControlDecoder decoder;
  auto a = decoder.parse(buffer);
  REQUIRE(a.status == ParseStatus::good);
  CHECK(a.consumed == first_size);
  CHECK(*a.message == first);
  auto b = decoder.parse(buffer.data() + a.consumed, buffer.data() + buffer.size());
  REQUIRE(b.status == ParseStatus::good);
  CHECK(b.consumed == tail.size());
  CHECK(*b.message == second);
  auto c = decoder.parse(buffer.data() + buffer.size(), buffer.data() + buffer.size());
  CHECK(c.status == ParseStatus::need_more);
  CHECK(c.consumed == 0);
}

TEST_CASE("a stream header leaves the client's bytes after it untouched", "[protocol]") {
  auto buffer = *encode(test::sample_stream_header());
  std::size_t header_size = buffer.size();
  const std::string payload = "GET / HTTP/1.1\r\n\r\n";
  buffer.insert(buffer.end(), payload.begin(), payload.end());
  StreamHeaderDecoder decoder;
  auto result = decoder.parse(buffer);
  REQUIRE(result.status == ParseStatus::good);
  CHECK(result.consumed == header_size);
  CHECK(std::string(buffer.begin() + static_cast<std::ptrdiff_t>(result.consumed), buffer.end()) == payload);
}

TEST_CASE("an oversized frame is refused from its segment table", "[protocol]") {
  // 9000 words = 72000 bytes > 64 KiB; only the 8-byte table is sent.
  auto table = segment_table({9000});
  ControlDecoder decoder;
  auto result = decoder.parse(table);
  REQUIRE(result.status == ParseStatus::bad);
  CHECK(result.consumed == 8);
  CHECK_THAT(result.reason, Catch::Contains("exceeds the limit"));

  SECTION("and the decoder stays bad") {
    auto valid = *encode(ControlMessage{Heartbeat{1, 1}});
    auto again = decoder.parse(valid);
    CHECK(again.status == ParseStatus::bad);
    CHECK(again.consumed == 0);
    CHECK_FALSE(decoder.between_frames());
  }
  SECTION("sizes summed over segments count too") {
    ControlDecoder other;
    auto split = segment_table({4000, 4000, 300});
    CHECK(other.parse(split).status == ParseStatus::bad);
  }
  SECTION("the largest allowed frame is only waited for") {
    ControlDecoder other;
    auto fits = segment_table({64 * 1024 / 8 - 1});
    auto step = other.parse(fits);
    CHECK(step.status == ParseStatus::need_more);
    CHECK(step.consumed == fits.size());
  }
}

TEST_CASE("absurd segment counts are refused after four bytes", "[protocol]") {
  for (std::uint32_t count_minus_one : {8u, 511u, 0xffffffffu}) {
    FrameBytes bytes;
    put_u32(bytes, count_minus_one);
    ControlDecoder decoder;
    auto result = decoder.parse(bytes);
    INFO("count - 1 = " << count_minus_one);
    REQUIRE(result.status == ParseStatus::bad);
    CHECK(result.consumed == 4);
    CHECK_THAT(result.reason, Catch::Contains("segments"));
  }
}

TEST_CASE("a truncated frame waits and is not at a frame boundary", "[protocol]") {
  auto bytes = *encode(ControlMessage{Heartbeat{9, 9}});
  for (std::size_t cut : {std::size_t{2}, std::size_t{6}, bytes.size() - 1}) {
    ControlDecoder decoder;
    auto result = decoder.parse(bytes.data(), bytes.data() + cut);
    INFO("cut at " << cut);
    CHECK(result.status == ParseStatus::need_more);
    CHECK(result.consumed == cut);
    // The shell reports an end of stream here as a protocol error.
    CHECK_FALSE(decoder.between_frames());
  }
}

TEST_CASE("garbage is refused", "[protocol]") {
  const std::string garbage = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
  ControlDecoder decoder;
  auto result = decoder.parse(reinterpret_cast<const std::uint8_t*>(garbage.data()),
                              reinterpret_cast<const std::uint8_t*>(garbage.data() + garbage.size()));
  CHECK(result.status == ParseStatus::bad);
  CHECK_FALSE(result.reason.empty());
}

TEST_CASE("a frame whose content is not a valid message is refused", "[protocol]") {
  SECTION("an empty segment holds no root") {
    auto bytes = segment_table({0});
    ControlDecoder decoder;
    auto result = decoder.parse(bytes);
    CHECK(result.status == ParseStatus::bad);
  }
  SECTION("a null root pointer") {
    auto bytes = segment_table({1});
    bytes.resize(bytes.size() + 8, 0);
    StreamHeaderDecoder decoder;
    auto result = decoder.parse(bytes);
    CHECK(result.status == ParseStatus::bad);
    CHECK_THAT(result.reason, Catch::Contains("no message"));
  }
  SECTION("a root pointer past the segment's end") {
    auto bytes = segment_table({1});
    // Struct pointer, offset 5 words: far outside a one-word segment.
    FrameBytes pointer{5 << 2, 0, 0, 0, 1, 0, 1, 0};
    bytes.insert(bytes.end(), pointer.begin(), pointer.end());
    ControlDecoder decoder;
    auto result = decoder.parse(bytes);
    CHECK(result.status == ParseStatus::bad);
    CHECK_THAT(result.reason, Catch::Contains("malformed frame"));
  }
}

#include "core/protocol/fuzz_entry.hpp"

#include "core/protocol/frame_decoder.hpp"
#include "core/protocol/frame_encoder.hpp"

#include <cstdio>
#include <cstdlib>

namespace warren::core::protocol {
namespace {

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "warren protocol fuzz finding: %s\n", what);
  std::abort();
}

// A decoded message is valid by construction, so it must survive a round
// trip unchanged; anything else means encoder and decoder disagree.
template <typename Message>
void check_round_trip(const Message& message) {
  auto bytes = encode(message);
  if (!bytes) finding("a decoded message does not encode");
  FrameDecoder<Message> again;
  auto result = again.parse(*bytes);
  if (result.status != ParseStatus::good || result.consumed != bytes->size()) finding("a re-encoded frame does not decode");
  if (!(*result.message == message)) finding("a round trip changed the message");
}

template <typename Message>
void feed(const std::uint8_t* data, std::size_t size, std::size_t chunk) {
  FrameDecoder<Message> decoder;
  std::size_t offset = 0;
  while (offset < size) {
    std::size_t piece = std::min(chunk, size - offset);
    auto result = decoder.parse(data + offset, data + offset + piece);
    if (result.consumed > piece) finding("consumed more than given");
    if (result.status == ParseStatus::bad) return;
    if (result.status == ParseStatus::need_more && result.consumed != piece) finding("need-more left bytes unread");
    if (result.status == ParseStatus::good) {
      if (!result.message) finding("good without a message");
      check_round_trip(*result.message);
    }
    offset += result.consumed;
    // A good result with zero bytes would loop forever.
    if (result.consumed == 0 && result.status == ParseStatus::good) finding("good consumed nothing");
  }
}

// The first byte picks the delivery chunk size, so one input also tests split reads.
std::size_t chunk_of(const std::uint8_t* data, std::size_t size) {
  return size == 0 ? 1 : static_cast<std::size_t>(data[0] % 16) + 1;
}

}  // namespace

int fuzz_control_decoders(const std::uint8_t* data, std::size_t size) noexcept {
  std::size_t chunk = chunk_of(data, size);
  feed<ControlMessage>(data, size, size);
  feed<ControlMessage>(data, size, chunk);
  feed<StreamReply>(data, size, size);
  feed<StreamReply>(data, size, chunk);
  return 0;
}

int fuzz_stream_header_decoder(const std::uint8_t* data, std::size_t size) noexcept {
  feed<StreamHeader>(data, size, size);
  feed<StreamHeader>(data, size, chunk_of(data, size));
  return 0;
}

int fuzz_decoders(const std::uint8_t* data, std::size_t size) noexcept {
  fuzz_control_decoders(data, size);
  fuzz_stream_header_decoder(data, size);
  return 0;
}

}  // namespace warren::core::protocol

// A seeded mutation loop: valid frames bent at random (bit flips, byte
// overwrites, truncation, splices, segment-table edits) must decode or be
// refused, never crash or throw. fuzz_decoders() also re-encodes every
// message that decodes and aborts if the round trip changes it.

#include "core/protocol/frame_decoder.hpp"
#include "core/protocol/frame_encoder.hpp"
#include "core/protocol/fuzz_entry.hpp"
#include "sample_messages.hpp"

#include <warren/sdk/random.hpp>

#include <catch2/catch.hpp>

using namespace warren::core::protocol;

namespace {

FrameBytes mutate(FrameBytes bytes, const std::vector<FrameBytes>& corpus, warren::sdk::RandomSource& random) {
  auto pick = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(random.next_u64() % n); };
  std::size_t rounds = 1 + pick(4);
  for (std::size_t r = 0; r < rounds; ++r) {
    switch (pick(6)) {
      case 0:  // flip one bit
        if (!bytes.empty()) bytes[pick(bytes.size())] ^= static_cast<std::uint8_t>(1u << pick(8));
        break;
      case 1:  // overwrite a byte with an interesting value
        if (!bytes.empty()) {
          static constexpr std::uint8_t values[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x40};
          bytes[pick(bytes.size())] = values[pick(std::size(values))];
        }
        break;
      case 2:  // truncate
        bytes.resize(pick(bytes.size() + 1));
        break;
      case 3: {  // append part of another frame
        const auto& other = corpus[pick(corpus.size())];
        auto from = pick(other.size());
        bytes.insert(bytes.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
        break;
      }
      case 4:  // rewrite a segment table word (count or a size)
        if (bytes.size() >= 8) {
          std::size_t at = 4 * pick(2);
          std::uint32_t v = static_cast<std::uint32_t>(random.next_u64() >> pick(32));
          for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
        }
        break;
      default:  // overwrite a pointer-sized word with random bits
        if (bytes.size() >= 16) {
          std::size_t word = 1 + pick(bytes.size() / 8 - 1);
          std::uint64_t v = random.next_u64();
          for (int i = 0; i < 8; ++i) bytes[word * 8 + i] = static_cast<std::uint8_t>(v >> (8 * i));
        }
        break;
    }
  }
  return bytes;
}

}  // namespace

TEST_CASE("20k mutated frames neither crash nor throw", "[protocol][fuzz]") {
  std::vector<FrameBytes> corpus;
  for (const auto& m : test::every_control_message()) corpus.push_back(*encode(m));
  corpus.push_back(*encode(test::sample_stream_header()));

  warren::sdk::SeededRandom random(0x5eed'c0de);
  int good = 0, bad = 0, need_more = 0;
  for (int i = 0; i < 20'000; ++i) {
    auto input = mutate(corpus[random.next_u64() % corpus.size()], corpus, random);
    REQUIRE_NOTHROW(fuzz_decoders(input.data(), input.size()));
    ControlDecoder decoder;
    switch (decoder.parse(input).status) {
      case ParseStatus::good: ++good; break;
      case ParseStatus::bad: ++bad; break;
      case ParseStatus::need_more: ++need_more; break;
    }
  }
  // The mutations must reach every outcome, or the loop tests little.
  INFO("good " << good << ", bad " << bad << ", need more " << need_more);
  CHECK(good > 2'000);
  CHECK(bad > 2'000);
  CHECK(need_more > 2'000);
}

TEST_CASE("pure random bytes neither crash nor throw", "[protocol][fuzz]") {
  warren::sdk::SeededRandom random(7);
  for (int i = 0; i < 5'000; ++i) {
    FrameBytes input(random.next_u64() % 256);
    for (auto& b : input) b = static_cast<std::uint8_t>(random.next_u64());
    REQUIRE_NOTHROW(fuzz_decoders(input.data(), input.size()));
  }
}

#pragma once
// The input format of fuzz_quic_datagrams, shared with the seed writer:
//   byte 0       the listener's Retry mode (low two bits: 0 automatic,
//                1 always, 2 and 3 never)
//   then         datagrams, each a 2-byte big-endian length and that many
//                bytes (a length past the end takes what is left)

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace warren::fuzz {

inline constexpr std::size_t kMaxDatagrams = 16;
inline constexpr std::size_t kMaxDatagramSize = 1500;

inline std::vector<std::span<const std::uint8_t>> split_datagrams(std::span<const std::uint8_t> input) {
  std::vector<std::span<const std::uint8_t>> out;
  while (input.size() >= 2 && out.size() < kMaxDatagrams) {
    std::size_t len = std::size_t{input[0]} << 8 | input[1];
    input = input.subspan(2);
    len = std::min({len, input.size(), kMaxDatagramSize});
    out.push_back(input.first(len));
    input = input.subspan(len);
  }
  return out;
}

inline void append_datagram(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> datagram) {
  out.push_back(static_cast<std::uint8_t>(datagram.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(datagram.size()));
  out.insert(out.end(), datagram.begin(), datagram.end());
}

}  // namespace warren::fuzz

// The 2-byte length framing of datagrams on a stream: round trips, pieces
// of any size, the maximum length, malformed lengths.

#include "core/datagram/datagram_framing.hpp"

#include <catch2/catch.hpp>

#include <vector>

namespace warren::core::datagram {
namespace {

sdk::Datagram bytes_of(std::size_t n, unsigned seed) {
  sdk::Datagram d(n);
  for (std::size_t i = 0; i < n; ++i) d[i] = static_cast<std::byte>((i * 31 + seed) & 0xff);
  return d;
}

/// Feeds `wire` in pieces of `piece` bytes; returns the datagrams decoded.
std::vector<sdk::Datagram> decode_all(DatagramDecoder& decoder, const sdk::Datagram& wire, std::size_t piece) {
  std::vector<sdk::Datagram> out;
  for (std::size_t at = 0; at < wire.size(); at += piece) {
    std::span<const std::byte> chunk(wire.data() + at, std::min(piece, wire.size() - at));
    while (!chunk.empty()) {
      auto r = decoder.parse(chunk);
      REQUIRE(r.status != DecodeStatus::bad);
      REQUIRE(r.consumed > 0);
      chunk = chunk.subspan(r.consumed);
      if (r.status == DecodeStatus::good) out.push_back(std::move(r.datagram));
    }
  }
  return out;
}

TEST_CASE("datagram framing: a 2-byte big-endian length, then the bytes", "[datagram][framing]") {
  sdk::Datagram wire;
  REQUIRE(encode_datagram(bytes_of(300, 1), 65527, wire));
  REQUIRE(wire.size() == 302);
  CHECK(wire[0] == std::byte{0x01});
  CHECK(wire[1] == std::byte{0x2c});
  CHECK(wire[2] == bytes_of(300, 1)[0]);
}

TEST_CASE("datagram framing: datagrams round-trip whatever the read sizes", "[datagram][framing]") {
  std::vector<sdk::Datagram> sent = {bytes_of(0, 0), bytes_of(1, 1), bytes_of(1200, 2), bytes_of(65527, 3),
                                     bytes_of(255, 4), bytes_of(256, 5)};
  sdk::Datagram wire;
  for (const auto& d : sent) REQUIRE(encode_datagram(d, 65527, wire));
  for (std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{1000}, wire.size()}) {
    DatagramDecoder decoder(65527);
    auto received = decode_all(decoder, wire, piece);
    INFO("piece " << piece);
    CHECK(received == sent);
    CHECK(decoder.between_datagrams());
  }
}

TEST_CASE("datagram framing: a split length and a partial body need more", "[datagram][framing]") {
  sdk::Datagram wire;
  REQUIRE(encode_datagram(bytes_of(10, 7), 100, wire));
  DatagramDecoder decoder(100);
  auto r = decoder.parse(std::span(wire.data(), 1));
  CHECK(r.status == DecodeStatus::need_more);
  CHECK(r.consumed == 1);
  CHECK_FALSE(decoder.between_datagrams());
  r = decoder.parse(std::span(wire.data() + 1, 5));
  CHECK(r.status == DecodeStatus::need_more);
  CHECK(r.consumed == 5);
  r = decoder.parse(std::span(wire.data() + 6, wire.size() - 6));
  CHECK(r.status == DecodeStatus::good);
  CHECK(r.consumed == wire.size() - 6);
  CHECK(r.datagram == bytes_of(10, 7));
}

TEST_CASE("datagram framing: one parse stops at the end of a datagram", "[datagram][framing]") {
  sdk::Datagram wire;
  REQUIRE(encode_datagram(bytes_of(3, 1), 100, wire));
  REQUIRE(encode_datagram(bytes_of(4, 2), 100, wire));
  DatagramDecoder decoder(100);
  auto r = decoder.parse(wire);
  CHECK(r.status == DecodeStatus::good);
  CHECK(r.consumed == 5);
  CHECK(r.datagram == bytes_of(3, 1));
}

TEST_CASE("datagram framing: the encoder refuses a datagram above the maximum", "[datagram][framing]") {
  sdk::Datagram wire;
  CHECK_FALSE(encode_datagram(bytes_of(101, 0), 100, wire));
  CHECK(wire.empty());
  CHECK(encode_datagram(bytes_of(100, 0), 100, wire));
  // Never above what two bytes can say, whatever the maximum asked.
  sdk::Datagram big;
  CHECK_FALSE(encode_datagram(bytes_of(65536, 0), 1 << 20, big));
}

TEST_CASE("datagram framing: a length above the maximum is malformed, and stays so", "[datagram][framing]") {
  DatagramDecoder decoder(1200);
  const sdk::Datagram wire = {std::byte{0x04}, std::byte{0xb1}, std::byte{0}, std::byte{0}};  // 1201
  auto r = decoder.parse(wire);
  CHECK(r.status == DecodeStatus::bad);
  CHECK(r.reason.find("1201") != std::string::npos);
  CHECK(decoder.failed());
  // Nothing more is taken, even a well-formed datagram.
  sdk::Datagram good;
  REQUIRE(encode_datagram(bytes_of(5, 0), 1200, good));
  auto again = decoder.parse(good);
  CHECK(again.status == DecodeStatus::bad);
  CHECK(again.consumed == 0);
}

TEST_CASE("datagram framing: the largest length is accepted at a maximum of 65535", "[datagram][framing]") {
  DatagramDecoder decoder(0xffff);
  const sdk::Datagram prefix = {std::byte{0xff}, std::byte{0xff}};
  auto r = decoder.parse(prefix);
  CHECK(r.status == DecodeStatus::need_more);
  CHECK(r.consumed == 2);
}

}  // namespace
}  // namespace warren::core::datagram

// The QUIC plugin's byte containers, tested alone: they decide what memory
// a stream holds and which bytes ngtcp2 may point at.

#include "stream_helpers.hpp"

#include "byte_ring.hpp"
#include "send_buffer.hpp"

#include <catch2/catch.hpp>

namespace warren::test {
namespace {

TEST_CASE("quic: ByteRing keeps order across wrap-around and growth", "[quic][buffers]") {
  quic::ByteRing ring;
  auto data = pattern(300000, 1);
  std::vector<std::uint8_t> out;
  std::size_t in = 0;
  std::vector<std::uint8_t> chunk(7000);
  // Uneven appends and reads so the head wraps and the ring regrows mid-way.
  while (out.size() < data.size()) {
    std::size_t add = std::min<std::size_t>(1 + (in * 7919) % 9000, data.size() - in);
    ring.append(data.data() + in, add);
    in += add;
    std::size_t n = ring.read(chunk.data(), std::min<std::size_t>(chunk.size(), 1 + (in % 6000)));
    out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    if (in == data.size()) {
      while (!ring.empty()) {
        n = ring.read(chunk.data(), chunk.size());
        out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
      }
    }
  }
  CHECK(byte_difference(out, data) == "");
  CHECK(ring.empty());
}

TEST_CASE("quic: a drained ring's storage serves the next ring that grows, within bounds", "[quic][buffers]") {
  // Fresh storage for every batch of a bulk stream cost a page fault per
  // 4 KiB received (bench/WHERE_CYCLES_GO.md); the spares are bounded.
  auto& spares = quic::RingSpares::local();
  while (spares.take(0).bytes) {
  }
  auto batch = pattern(20000, 5);
  std::vector<std::uint8_t> out(batch.size());
  quic::ByteRing first;
  first.append(batch.data(), batch.size());
  {
    std::size_t held = first.capacity();
    CHECK(first.read(out.data(), out.size()) == batch.size());
    CHECK(first.capacity() == 0);
    CHECK(spares.bytes() == held);
  }
  quic::ByteRing second;
  second.append(batch.data(), 100);
  CHECK(spares.bytes() == 0);  // taken, not allocated anew
  CHECK(second.capacity() >= batch.size());
  CHECK(second.read(out.data(), out.size()) == 100);
  CHECK(std::equal(out.begin(), out.begin() + 100, batch.begin()));

  std::vector<quic::ByteRing> many(10);
  for (auto& ring : many) ring.append(batch.data(), batch.size());
  for (auto& ring : many) CHECK(ring.read(out.data(), out.size()) == batch.size());
  CHECK(spares.bytes() <= quic::RingSpares::max_bytes);
  CHECK(spares.bytes() <= quic::RingSpares::max_count * 32768);
}

TEST_CASE("quic: SendBuffer offers unsent bytes and frees acknowledged ones", "[quic][buffers]") {
  quic::SendBuffer buffer;
  auto a = pattern(1000, 2), b = pattern(500, 3);
  buffer.append(a.data(), a.size());
  buffer.append(b.data(), b.size());
  CHECK(buffer.end_offset() == 1500);
  CHECK(buffer.held() == 1500);

  ngtcp2_vec vecs[4];
  std::size_t total = 0;
  REQUIRE(buffer.unsent(vecs, 4, total) == 2);
  CHECK(total == 1500);
  CHECK(vecs[0].base[0] == a[0]);

  buffer.mark_sent(1200);  // into the second chunk
  REQUIRE(buffer.unsent(vecs, 4, total) == 1);
  CHECK(total == 300);
  CHECK(vecs[0].base[0] == b[200]);

  // A pointer handed to ngtcp2 stays valid while later writes append.
  quic::SendBuffer other;
  std::size_t ignored = 0;
  other.append(a.data(), a.size());
  other.unsent(vecs, 1, ignored);
  const std::uint8_t* handed_out = vecs[0].base;
  other.append(b.data(), b.size());
  other.unsent(vecs, 1, ignored);
  CHECK(vecs[0].base == handed_out);

  buffer.acknowledge(999);  // not all of the first chunk: nothing freed
  CHECK(buffer.held() == 1500 - 999);
  buffer.acknowledge(1000);
  CHECK(buffer.held() == 500);
  buffer.mark_sent(300);
  CHECK_FALSE(buffer.has_unsent());
  CHECK(buffer.unsent(vecs, 4, total) == 0);
  buffer.acknowledge(1500);
  CHECK(buffer.held() == 0);
}

TEST_CASE("quic: an idle or drained stream holds no buffer storage", "[quic][buffers]") {
  // Thousands of idle streams each keeping a ring or a chunk table would cost
  // kilobytes per stream (issue 9's memory goals).
  quic::ByteRing ring;
  CHECK(ring.capacity() == 0);
  auto header = pattern(40, 4);  // what the connector reads first on every stream
  ring.append(header.data(), header.size());
  CHECK(ring.capacity() > 0);
  std::vector<std::uint8_t> out(100);
  CHECK(ring.read(out.data(), out.size()) == header.size());
  CHECK(ring.capacity() == 0);

  quic::SendBuffer buffer;
  CHECK(buffer.chunk_capacity() == 0);
  buffer.append(header.data(), header.size());
  CHECK(buffer.chunk_capacity() > 0);
  buffer.mark_sent(header.size());
  buffer.acknowledge(header.size());
  CHECK(buffer.chunk_capacity() == 0);
  // And it still works afterwards: offsets go on from where they were.
  buffer.append(header.data(), header.size());
  ngtcp2_vec vecs[2];
  std::size_t total = 0;
  REQUIRE(buffer.unsent(vecs, 2, total) == 1);
  CHECK(total == header.size());
  CHECK(buffer.end_offset() == 2 * header.size());
}

}  // namespace
}  // namespace warren::test

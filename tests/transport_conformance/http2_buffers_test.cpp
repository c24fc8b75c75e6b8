// The HTTP/2 plugin's ByteQueue, tested alone: what a stream's buffers hold
// once it has moved data and gone idle.

#include "stream_helpers.hpp"
#include "transports/http2/byte_queue.hpp"

#include <catch2/catch.hpp>

#include <thread>

namespace warren::test {
namespace {

using http2::ByteQueue;
using http2::SpareBuffers;

TEST_CASE("http2: ByteQueue keeps order across compaction and refills", "[http2][buffers]") {
  ByteQueue queue;
  auto data = pattern(400000, 4);
  std::vector<std::uint8_t> out, chunk(9000);
  auto take = [&](std::size_t want) {
    std::size_t n = queue.take(chunk.data(), std::min(want, chunk.size()));
    out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
  };
  // Appends outpace takes, so the queue grows past 64 KiB and compacts.
  for (std::size_t in = 0; in < data.size();) {
    std::size_t add = std::min<std::size_t>(1 + (in * 7919) % 20000, data.size() - in);
    queue.append(data.data() + in, add);
    in += add;
    take(1 + in % 8000);
  }
  while (!queue.empty()) take(chunk.size());
  CHECK(byte_difference(out, data) == "");
  CHECK(queue.empty());
}

TEST_CASE("http2: a drained ByteQueue holds no storage", "[http2][buffers]") {
  // Run on a thread of its own: its spare list starts empty.
  std::thread([] {
    auto data = pattern(64 << 10, 5);
    std::vector<std::uint8_t> out(data.size());
    std::vector<ByteQueue> streams(40);
    for (auto& queue : streams) {
      queue.append(data.data(), data.size());
      CHECK(queue.capacity() >= data.size());
    }
    for (auto& queue : streams) {
      CHECK(queue.take(out.data(), out.size()) == data.size());
      CHECK(queue.capacity() == 0);  // the old queue kept its 64 KiB vector
    }
    // What the drained queues gave back is bounded: a few spares, not 40 x 64 KiB.
    CHECK(SpareBuffers::local().count() == SpareBuffers::max_count);
    // A queue that fills again takes a spare instead of allocating.
    streams[0].append(data.data(), 100);
    CHECK(streams[0].capacity() >= data.size());
    CHECK(SpareBuffers::local().count() == SpareBuffers::max_count - 1);
    streams[0].clear();
    CHECK(streams[0].capacity() == 0);
  }).join();
}

TEST_CASE("http2: SpareBuffers frees what is past its bounds", "[http2][buffers]") {
  std::thread([] {
    SpareBuffers spares;
    std::vector<std::uint8_t> big(SpareBuffers::max_capacity + 1);
    spares.give(std::move(big));
    CHECK(spares.count() == 0);
    for (std::size_t i = 0; i < SpareBuffers::max_count + 3; ++i) spares.give(std::vector<std::uint8_t>(1024));
    CHECK(spares.count() == SpareBuffers::max_count);
    CHECK(spares.bytes() == SpareBuffers::max_count * 1024);
    auto taken = spares.take();
    CHECK(taken.empty());
    CHECK(taken.capacity() >= 1024);
    // The byte bound: two full-size spares fill it, a third is freed.
    SpareBuffers large;
    for (int i = 0; i < 3; ++i) large.give(std::vector<std::uint8_t>(SpareBuffers::max_capacity));
    CHECK(large.count() == SpareBuffers::max_bytes / SpareBuffers::max_capacity);
    CHECK(large.bytes() <= SpareBuffers::max_bytes);
  }).join();
}

}  // namespace
}  // namespace warren::test

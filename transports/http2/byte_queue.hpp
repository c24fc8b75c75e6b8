#pragma once
// Bytes in order: appended at the back, taken from the front. A vector and
// a read position, compacted when the taken part dominates, so a stream's
// buffer costs its contents, not its history.
//
// A queue that drains gives its storage back: 1,000 streams that each echoed
// 64 KiB once and went idle held 126 KiB each on the edge while their drained
// vectors kept their capacity (bench/MEMORY.md). The storage goes to a small
// per-thread spare list first, so a bulk stream, whose queues drain and refill
// all the time, takes the same vector back instead of allocating again.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace warren::http2 {

/// Drained queue storage kept for the next queue on the same thread that
/// fills. Bounded in count and bytes: what the spare list holds is the most
/// an idle process keeps after traffic (max_bytes per thread). A received
/// queue of a bulk stream grows to its stream window (1 MiB by default);
/// with a smaller cap it was freed at each drain and regrown by copying,
/// which cost HTTP/2 bulk ~10 % more CPU (bench/MEMORY.md).
class SpareBuffers {
 public:
  static constexpr std::size_t max_count = 4;
  static constexpr std::size_t max_capacity = 1 << 20;
  static constexpr std::size_t max_bytes = 2 << 20;

  /// An empty vector, with capacity when a spare is at hand.
  std::vector<std::uint8_t> take() {
    if (spares_.empty()) return {};
    auto bytes = std::move(spares_.back());
    spares_.pop_back();
    held_ -= bytes.capacity();
    return bytes;
  }
  /// Keeps `bytes`' storage if there is room; frees it otherwise.
  void give(std::vector<std::uint8_t>&& bytes) {
    if (bytes.capacity() == 0) return;
    if (spares_.size() >= max_count || bytes.capacity() > max_capacity || held_ + bytes.capacity() > max_bytes) {
      std::vector<std::uint8_t>().swap(bytes);
      return;
    }
    bytes.clear();
    held_ += bytes.capacity();
    spares_.push_back(std::move(bytes));
  }
  std::size_t count() const { return spares_.size(); }
  /// Bytes of storage the spares hold.
  std::size_t bytes() const { return held_; }

  /// This thread's list (each I/O thread drives its own connections).
  static SpareBuffers& local() {
    thread_local SpareBuffers spares;
    return spares;
  }

 private:
  std::vector<std::vector<std::uint8_t>> spares_;
  std::size_t held_ = 0;
};

class ByteQueue {
 public:
  std::size_t size() const { return bytes_.size() - head_; }
  bool empty() const { return size() == 0; }
  /// Bytes of storage held: 0 once drained.
  std::size_t capacity() const { return bytes_.capacity(); }
  void append(const std::uint8_t* data, std::size_t n) {
    if (n == 0) return;
    if (bytes_.capacity() == 0) bytes_ = SpareBuffers::local().take();
    bytes_.insert(bytes_.end(), data, data + n);
  }
  /// Copies up to `n` bytes to `out` and drops them; returns how many.
  std::size_t take(std::uint8_t* out, std::size_t n) {
    n = std::min(n, size());
    if (n == 0) return 0;  // an empty queue may hold no storage: memcpy from null is undefined even for 0 bytes
    std::memcpy(out, bytes_.data() + head_, n);
    head_ += n;
    if (head_ == bytes_.size()) {
      clear();
    } else if (head_ > (64u << 10) && head_ * 2 > bytes_.size()) {
      bytes_.erase(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    return n;
  }
  /// Drops the contents and gives the storage back.
  void clear() {
    SpareBuffers::local().give(std::move(bytes_));
    bytes_ = {};
    head_ = 0;
  }

  ByteQueue() = default;
  ByteQueue(const ByteQueue&) = delete;
  ByteQueue& operator=(const ByteQueue&) = delete;
  // Frees directly: a stream may outlive its thread's spare list (at exit).
  ~ByteQueue() = default;

 private:
  std::vector<std::uint8_t> bytes_;
  std::size_t head_ = 0;
};

}  // namespace warren::http2

#pragma once
// Received stream bytes the application has not read yet. Stream flow
// control bounds how much can be here (stream credit is granted only as
// bytes are read), so the ring grows on demand up to the stream's window and
// never beyond. An idle stream holds no storage, and a drained one gives its
// storage back: thousands of streams that each once held a few bytes (the
// stream header the connector reads first) must not each keep a ring.
// Given-back storage waits in a small per-thread spare list (RingSpares) for
// the next ring that grows: a stream read in bulk drains its ring after every
// batch of datagrams, and fresh storage each time cost the receiver a page
// fault per 4 KiB (bench/WHERE_CYCLES_GO.md: 3.9 -> 1.2 CPU s/GB without).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace warren::quic {

/// Ring storage given back by drained rings, kept for the next ring that
/// grows on the same thread; bounded in count and bytes, so idle streams
/// still hold nothing. Not shared between threads (each I/O thread drives
/// its own connections).
class RingSpares {
 public:
  static constexpr std::size_t max_count = 4;
  static constexpr std::size_t max_bytes = 4u << 20;

  struct Storage {
    std::unique_ptr<std::uint8_t[]> bytes;
    std::size_t capacity = 0;
  };

  /// The spare with the least capacity of at least `needed`; empty if none.
  Storage take(std::size_t needed) {
    Storage* best = nullptr;
    for (auto& spare : spares_)
      if (spare.capacity >= needed && (!best || spare.capacity < best->capacity)) best = &spare;
    if (!best) return {};
    Storage out = std::move(*best);
    *best = std::move(spares_.back());
    spares_.pop_back();
    held_ -= out.capacity;
    return out;
  }
  /// Keeps `storage` if there is room, else frees it.
  void give(Storage storage) {
    if (spares_.size() >= max_count || held_ + storage.capacity > max_bytes) return;
    held_ += storage.capacity;
    spares_.push_back(std::move(storage));
  }
  std::size_t bytes() const { return held_; }

  static RingSpares& local() {
    thread_local RingSpares spares;
    return spares;
  }

 private:
  std::vector<Storage> spares_;
  std::size_t held_ = 0;
};

class ByteRing {
 public:
  std::size_t size() const { return size_; }
  /// Bytes of storage held (0 when empty).
  std::size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }

  void append(const std::uint8_t* data, std::size_t len) {
    if (len == 0) return;
    reserve(size_ + len);
    std::size_t tail = (head_ + size_) % capacity_;
    std::size_t first = std::min(len, capacity_ - tail);
    std::memcpy(storage_.get() + tail, data, first);
    std::memcpy(storage_.get(), data + first, len - first);
    size_ += len;
  }

  /// Moves up to `len` bytes into `out`; returns how many.
  std::size_t read(std::uint8_t* out, std::size_t len) {
    std::size_t n = copy_out(out, len);
    if (n == 0) return 0;
    head_ = (head_ + n) % capacity_;
    size_ -= n;
    if (size_ == 0) release();
    return n;
  }

  /// Drops everything and frees the storage.
  void clear() {
    storage_.reset();
    capacity_ = head_ = size_ = 0;
  }

  ByteRing() = default;
  ByteRing(const ByteRing&) = delete;
  ByteRing& operator=(const ByteRing&) = delete;
  // Frees directly: a stream may outlive its thread's spare list (at exit).
  ~ByteRing() = default;

 private:
  std::size_t copy_out(std::uint8_t* out, std::size_t len) const {
    std::size_t n = std::min(len, size_);
    if (n == 0) return 0;
    std::size_t first = std::min(n, capacity_ - head_);
    std::memcpy(out, storage_.get() + head_, first);
    std::memcpy(out + first, storage_.get(), n - first);
    return n;
  }

  void reserve(std::size_t needed) {
    if (needed <= capacity_) return;
    std::size_t capacity = std::max<std::size_t>(capacity_ * 2, 4096);
    while (capacity < needed) capacity *= 2;
    auto spare = RingSpares::local().take(capacity_ == 0 ? needed : capacity);
    if (spare.bytes) capacity = spare.capacity;
    auto storage = spare.bytes ? std::move(spare.bytes) : std::make_unique_for_overwrite<std::uint8_t[]>(capacity);
    std::size_t n = copy_out(storage.get(), size_);
    storage_ = std::move(storage);
    capacity_ = capacity;
    head_ = 0;
    size_ = n;
  }

  /// A drained ring's storage goes to this thread's spares.
  void release() {
    RingSpares::local().give({std::move(storage_), capacity_});
    clear();
  }

  std::unique_ptr<std::uint8_t[]> storage_;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace warren::quic

#pragma once
// Received stream bytes the application has not read yet. Stream flow
// control bounds how much can be here (stream credit is granted only as
// bytes are read), so the ring grows on demand up to the stream's window and
// never beyond. An idle stream holds no storage, and a drained one gives its
// storage back: thousands of streams that each once held a few bytes (the
// stream header the connector reads first) must not each keep a ring.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace warren::quic {

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
    if (size_ == 0) clear();
    return n;
  }

  /// Drops everything and frees the storage.
  void clear() {
    storage_.reset();
    capacity_ = head_ = size_ = 0;
  }

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
    auto storage = std::make_unique_for_overwrite<std::uint8_t[]>(capacity);
    std::size_t n = copy_out(storage.get(), size_);
    storage_ = std::move(storage);
    capacity_ = capacity;
    head_ = 0;
    size_ = n;
  }

  std::unique_ptr<std::uint8_t[]> storage_;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace warren::quic

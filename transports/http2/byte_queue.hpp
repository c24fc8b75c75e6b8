#pragma once
// Bytes in order: appended at the back, taken from the front. A vector and
// a read position, compacted when the taken part dominates, so a stream's
// buffer costs its contents, not its history.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace warren::http2 {

class ByteQueue {
 public:
  std::size_t size() const { return bytes_.size() - head_; }
  bool empty() const { return size() == 0; }
  void append(const std::uint8_t* data, std::size_t n) { bytes_.insert(bytes_.end(), data, data + n); }
  /// Copies up to `n` bytes to `out` and drops them; returns how many.
  std::size_t take(std::uint8_t* out, std::size_t n) {
    n = std::min(n, size());
    std::memcpy(out, bytes_.data() + head_, n);
    head_ += n;
    if (head_ == bytes_.size()) {
      bytes_.clear();
      head_ = 0;
    } else if (head_ > (64u << 10) && head_ * 2 > bytes_.size()) {
      bytes_.erase(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    return n;
  }
  void clear() {
    bytes_.clear();
    bytes_.shrink_to_fit();
    head_ = 0;
  }

 private:
  std::vector<std::uint8_t> bytes_;
  std::size_t head_ = 0;
};

}  // namespace warren::http2

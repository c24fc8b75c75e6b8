#pragma once
// Outgoing stream bytes. ngtcp2 0.12 does not copy stream data: it keeps
// pointers for retransmission until the peer acknowledges them. So bytes
// live here, in chunks that never move, from the application's write until
// acked_stream_data_offset says the peer has them.

#include <ngtcp2/ngtcp2.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>

namespace warren::quic {

class SendBuffer {
 public:
  /// Copies `len` bytes in; they become unsent data at the end of the stream.
  void append(const std::uint8_t* data, std::size_t len) {
    if (len == 0) return;
    Chunk chunk{std::make_unique_for_overwrite<std::uint8_t[]>(len), len, end_};
    std::memcpy(chunk.data.get(), data, len);
    chunks_.push_back(std::move(chunk));
    end_ += len;
  }

  /// Stream offset one past the last byte appended.
  std::uint64_t end_offset() const { return end_; }
  /// Bytes ngtcp2 has taken into packets so far.
  std::uint64_t sent_offset() const { return sent_; }
  bool has_unsent() const { return sent_ < end_; }
  /// Bytes held (unsent or unacknowledged).
  std::uint64_t held() const { return end_ - acked_; }

  /// Points `vecs` at the unsent bytes; returns how many vecs were used
  /// and the byte total in `total`.
  std::size_t unsent(ngtcp2_vec* vecs, std::size_t max_vecs, std::size_t& total) const {
    std::size_t n = 0;
    total = 0;
    for (std::size_t i = first_unsent_; i < chunks_.size() && n < max_vecs; ++i) {
      const Chunk& chunk = chunks_[i];
      std::size_t skip = sent_ > chunk.offset ? static_cast<std::size_t>(sent_ - chunk.offset) : 0;
      vecs[n].base = chunk.data.get() + skip;
      vecs[n].len = chunk.size - skip;
      total += vecs[n].len;
      ++n;
    }
    return n;
  }

  void mark_sent(std::size_t len) {
    sent_ += len;
    while (first_unsent_ < chunks_.size() && chunks_[first_unsent_].offset + chunks_[first_unsent_].size <= sent_)
      ++first_unsent_;
  }

  /// The peer has every byte before `offset`: free the chunks it covers.
  void acknowledge(std::uint64_t offset) {
    if (offset > acked_) acked_ = offset;
    // Acknowledged bytes were sent, so popped chunks all lie before first_unsent_.
    while (!chunks_.empty() && chunks_.front().offset + chunks_.front().size <= acked_) {
      chunks_.pop_front();
      if (first_unsent_ > 0) --first_unsent_;
    }
  }

  void clear() {
    chunks_.clear();
    first_unsent_ = 0;
    acked_ = sent_ = end_;
  }

 private:
  struct Chunk {
    std::unique_ptr<std::uint8_t[]> data;
    std::size_t size;
    std::uint64_t offset;
  };
  std::deque<Chunk> chunks_;
  std::size_t first_unsent_ = 0;  ///< index of the chunk holding sent_
  std::uint64_t acked_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t end_ = 0;
};

}  // namespace warren::quic

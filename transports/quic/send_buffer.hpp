#pragma once
// Outgoing stream bytes. ngtcp2 0.12 does not copy stream data: it keeps
// pointers for retransmission until the peer acknowledges them. So bytes
// live here, in chunks that never move, from the application's write until
// acked_stream_data_offset says the peer has them.

#include <ngtcp2/ngtcp2.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

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
  /// Bytes appended but not yet taken into packets.
  std::uint64_t unsent_bytes() const { return end_ - sent_; }
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
    // Acknowledged bytes were sent, so dropped chunks all lie before first_unsent_.
    std::size_t done = 0;
    while (done < chunks_.size() && chunks_[done].offset + chunks_[done].size <= acked_) ++done;
    if (done == 0) return;
    if (done == chunks_.size()) {
      std::vector<Chunk>().swap(chunks_);  // an idle stream keeps no chunk table
    } else {
      // At most a window's worth of chunks remain: shifting them is cheap.
      chunks_.erase(chunks_.begin(), chunks_.begin() + static_cast<std::ptrdiff_t>(done));
    }
    first_unsent_ -= std::min(first_unsent_, done);
  }

  /// Capacity of the chunk table: 0 for a stream with nothing in flight.
  std::size_t chunk_capacity() const { return chunks_.capacity(); }

  void clear() {
    std::vector<Chunk>().swap(chunks_);
    first_unsent_ = 0;
    acked_ = sent_ = end_;
  }

 private:
  struct Chunk {
    std::unique_ptr<std::uint8_t[]> data;
    std::size_t size;
    std::uint64_t offset;
  };
  // A vector, not a deque: libstdc++'s deque allocates ~600 bytes on
  // construction, which every idle stream would pay.
  std::vector<Chunk> chunks_;
  std::size_t first_unsent_ = 0;  ///< index of the chunk holding sent_
  std::uint64_t acked_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t end_ = 0;
};

}  // namespace warren::quic

#pragma once
// Receive-window auto-tuning for one stream, done here instead of by ngtcp2.
//
// ngtcp2 0.12 can tune a stream's window itself (settings.max_stream_window),
// but it has a bug that closes the whole connection with FLOW_CONTROL_ERROR
// under loss: when a MAX_STREAM_DATA frame does not fit the packet being
// written (NGTCP2_ERR_NOBUF), the frame stays queued and is sent later with
// the grown limit, while the limit ngtcp2 enforces on received data was never
// raised to it. The peer then sends legal data the receiver refuses. Fixed
// upstream in ngtcp2 v0.19.0 (commit 2da36d2f, "Update strm->rx.max_offset
// before writing a frame to packet"); Debian 12 ships 0.12.1. Seen here as
// 5-10 % failures of the "data arrives intact over a lossy path" conformance
// case, 0 in 60 runs with ngtcp2's tuning off. With the growth given as plain
// credit (ngtcp2_conn_extend_max_stream_offset), a queued frame never
// carries more than the next one ngtcp2 writes, which also raises the limit.
//
// The rule is ngtcp2's and quic-go's: when the reader consumed half the window
// within two smoothed RTTs, the window doubles, up to the maximum. A reader
// that is slow, or stalled, keeps the window it has.

#include <algorithm>
#include <cstdint>

namespace warren::quic {

class StreamWindow {
 public:
  /// The reader consumed `n` bytes at `now` (ns); `srtt` is the connection's
  /// smoothed RTT (ns, 0 when unknown). Returns the stream credit to give
  /// back: `n`, plus the growth when the window doubles. `initial` is the
  /// window the stream started with (its transport parameter), `max` the most
  /// it may reach.
  std::uint64_t on_consumed(std::uint64_t n, std::uint64_t now, std::uint64_t srtt, std::uint64_t initial,
                            std::uint64_t max) {
    if (window_ == 0) {
      window_ = initial;
      epoch_start_ = now;
    }
    consumed_ += n;
    if (consumed_ * 2 < window_) return n;
    std::uint64_t growth = 0;
    if (srtt > 0 && now - epoch_start_ < 2 * srtt && window_ < max) {
      growth = std::min(window_, max - window_);
      window_ += growth;
    }
    consumed_ = 0;
    epoch_start_ = now;
    return n + growth;
  }

  /// The current window in bytes (0 before the first read).
  std::uint64_t window() const { return window_; }

 private:
  std::uint64_t window_ = 0;
  std::uint64_t consumed_ = 0;     ///< bytes read since epoch_start_
  std::uint64_t epoch_start_ = 0;  ///< ns
};

}  // namespace warren::quic

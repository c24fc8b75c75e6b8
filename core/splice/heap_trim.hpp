#pragma once
// Giving freed heap back to the OS after a burst of closed streams. glibc's
// malloc returns memory on its own only from the top of the heap; after
// thousands of streams close, what they freed lies between allocations that
// live on (a grown hash table, a later stream), and stays resident: 10,000
// idle streams left ~120 MB behind on each side. malloc_trim(0) hands those
// free pages back (madvise DONTNEED) wherever they lie in the heap.

#include <boost/asio/any_io_executor.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <utility>

namespace warren::core {

/// When a burst of closes is worth a trim: the live count fell to half the
/// peak since the last trim, by at least `min_released` streams. Each trim
/// restarts the peak at the live count, so a burst of N closes costs about
/// log2(N / min_released) trims, and steady churn below min_released none.
/// The halvings stop at a few hundred live streams, and the transport frees
/// its own per-stream state after the splice is gone: so a burst that
/// trimmed owes one more trim once its last stream is gone and things have
/// settled (settle_due(); the caller waits settle_delay). 15 s after 10,000
/// streams closed, that trim gave 4 MB of the connector's 24 back
/// (bench/MEMORY.md). Sans-io: counts in, yes/no out.
class HeapTrimPolicy {
 public:
  explicit HeapTrimPolicy(std::size_t min_released = 256) : min_released_(min_released) {}

  void opened() { peak_ = std::max(peak_, ++live_); }

  /// True: trim now.
  bool closed() {
    if (live_ > 0) --live_;
    if (live_ == 0 && trimmed_) {
      trimmed_ = false;
      settle_ = true;
    }
    if (peak_ - live_ < min_released_ || live_ > peak_ / 2) return false;
    peak_ = live_;
    trimmed_ = live_ > 0;
    settle_ = settle_ || live_ == 0;
    return true;
  }

  /// True once after the close that emptied a burst that trimmed: trim
  /// again after settle_delay.
  bool settle_due() { return std::exchange(settle_, false); }

  std::size_t live() const { return live_; }
  std::size_t peak() const { return peak_; }

 private:
  std::size_t min_released_;
  std::size_t live_ = 0;
  std::size_t peak_ = 0;
  bool trimmed_ = false;  ///< a halving trimmed and streams are still live
  bool settle_ = false;
};

/// How long after a burst's last close its settle trim runs.
inline constexpr std::chrono::seconds settle_delay{2};

/// Counts one stream's memory for the process-wide policy while it lives;
/// its destructor may trim the heap (glibc malloc_trim(0)) now, or arm a
/// timer on `executor` for the settle trim. Thread-safe. Declare it as the
/// first member of what owns a stream's memory, so that it goes last,
/// after the rest was freed.
class HeapTrimTicket {
 public:
  explicit HeapTrimTicket(boost::asio::any_io_executor executor);
  ~HeapTrimTicket();
  HeapTrimTicket(const HeapTrimTicket&) = delete;
  HeapTrimTicket& operator=(const HeapTrimTicket&) = delete;

 private:
  boost::asio::any_io_executor executor_;
};

/// Trims run so far in this process (for tests and logs).
std::size_t heap_trims();

}  // namespace warren::core

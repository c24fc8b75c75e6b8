#pragma once
// Giving freed heap back to the OS after a burst of closed streams. glibc's
// malloc returns memory on its own only from the top of the heap; after
// thousands of streams close, what they freed lies between allocations that
// live on (a grown hash table, a later stream), and stays resident: 10,000
// idle streams left ~120 MB behind on each side. malloc_trim(0) hands those
// free pages back (madvise DONTNEED) wherever they lie in the heap.

#include <algorithm>
#include <cstddef>

namespace warren::core {

/// When a burst of closes is worth a trim: the live count fell to half the
/// peak since the last trim, by at least `min_released` streams. Each trim
/// restarts the peak at the live count, so a burst of N closes costs about
/// log2(N / min_released) trims, and steady churn below min_released none.
/// A burst that trimmed on the way down trims once more when its last stream
/// is gone: the halvings stop at a few hundred live streams, and what those
/// and the rest of the burst freed after the last halving stayed resident
/// (bench/MEMORY.md). Sans-io: counts in, yes/no out.
class HeapTrimPolicy {
 public:
  explicit HeapTrimPolicy(std::size_t min_released = 256) : min_released_(min_released) {}

  void opened() { peak_ = std::max(peak_, ++live_); }

  /// True: trim now.
  bool closed() {
    if (live_ > 0) --live_;
    bool halved = peak_ - live_ >= min_released_ && live_ <= peak_ / 2;
    bool emptied = live_ == 0 && burst_trimmed_ && peak_ > 0;
    if (!halved && !emptied) return false;
    peak_ = live_;
    burst_trimmed_ = live_ > 0;
    return true;
  }

  std::size_t live() const { return live_; }
  std::size_t peak() const { return peak_; }

 private:
  std::size_t min_released_;
  std::size_t live_ = 0;
  std::size_t peak_ = 0;
  bool burst_trimmed_ = false;  ///< a halving trimmed and streams are still live
};

/// Counts one stream's memory for the process-wide policy while it lives;
/// its destructor may trim the heap (glibc malloc_trim(0)). Thread-safe.
/// Declare it as the first member of what owns a stream's memory, so that
/// it goes last, after the rest was freed.
class HeapTrimTicket {
 public:
  HeapTrimTicket();
  ~HeapTrimTicket();
  HeapTrimTicket(const HeapTrimTicket&) = delete;
  HeapTrimTicket& operator=(const HeapTrimTicket&) = delete;
};

/// Trims run so far in this process (for tests and logs).
std::size_t heap_trims();

}  // namespace warren::core

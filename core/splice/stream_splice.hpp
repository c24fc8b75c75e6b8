#pragma once
// Copies bytes both ways between two streams (a public client and a tunnel
// stream, or a tunnel stream and a backend) until both directions ended.
// One buffer per direction and a read only after the previous write
// completed: a slow side slows the other, nothing buffers without bound.
// An idle splice holds almost no buffer: a socket side is first waited on
// until readable and holds no buffer meanwhile (and gives its buffer back
// once drained); a side that cannot be waited on (a transport's stream)
// keeps a small one. Buffers grow (up to `buffer_size`) only while reads
// fill them and shrink again when reads come back small, so an idle splice
// costs at most 2 KiB per side that cannot be waited on, a busy one at
// most 2 x buffer_size.
// EOF on one side becomes a half-close on the other; an error or reset on
// either side aborts both.

#include <warren/sdk/byte_stream.hpp>
#include <warren/sdk/time.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace warren::core {

struct SpliceResult {
  std::uint64_t a_to_b = 0;  ///< bytes copied from a to b (initial bytes included)
  std::uint64_t b_to_a = 0;
  /// The first failure, or none when both sides closed cleanly.
  /// errc::idle_timeout when the idle timeout ended it; the reason given to
  /// SpliceTracker::abort_all when that did.
  sdk::error_code error;
};

/// Bytes copied so far, bumped as each write completes (not only when a
/// splice ends), so metrics read during a long transfer see it grow. Owned
/// by whoever renders them; plain integers, on the splices' one thread.
/// `parent`, when set, is bumped too (a tunnel's counter feeds a total).
struct ByteCounter {
  std::uint64_t a_to_b = 0;
  std::uint64_t b_to_a = 0;
  std::shared_ptr<ByteCounter> parent;
  void add(bool forward, std::uint64_t n) {
    for (auto* c = this; c; c = c->parent.get()) (forward ? c->a_to_b : c->b_to_a) += n;
  }
};

/// Counts live splices; `on_idle` runs when the count falls to zero (drain).
/// abort_all() ends every live splice at once (their owner, e.g. a leg, died).
/// It also counts the splices it ever held and the bytes they copied (live).
class SpliceTracker {
 public:
  std::size_t active() const { return state_->active; }
  /// Splices ever counted here, ended ones included.
  std::uint64_t total() const { return state_->total; }
  /// Bytes every splice counted here copied so far, updated per write.
  const ByteCounter& bytes() const { return state_->bytes; }
  void when_idle(std::function<void()> callback);
  /// Aborts both streams of every live splice (a TCP socket is closed with
  /// RST, even with unsent bytes queued); each splice's `done` then runs as
  /// usual, with `reason` as its error, from the executor, not from here.
  void abort_all(sdk::error_code reason);

 private:
  friend class SpliceCounter;
  struct State {
    std::size_t active = 0;
    std::uint64_t total = 0;
    ByteCounter bytes;
    std::function<void()> on_idle;
    std::uint64_t next_id = 0;
    std::map<std::uint64_t, std::function<void(sdk::error_code)>> aborters;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

/// Memory that splice buffers may grow into, shared by many splices: a
/// buffer starts at 2 KiB and grows past that only if the budget has room,
/// so the sum of grown buffers never passes `limit` bytes. Past it, buffers
/// stay small: copying goes slower, memory does not grow.
class BufferBudget {
 public:
  explicit BufferBudget(std::size_t limit) : limit_(limit) {}
  bool take(std::size_t bytes) {
    if (bytes > limit_ - used_) return false;
    used_ += bytes;
    return true;
  }
  void give(std::size_t bytes) { used_ -= std::min(bytes, used_); }
  std::size_t used() const { return used_; }
  std::size_t limit() const { return limit_; }

 private:
  std::size_t limit_;
  std::size_t used_ = 0;
};

struct SpliceOptions {
  SpliceTracker* tracker = nullptr;
  /// Shared growth budget; null: buffers grow up to buffer_size freely.
  std::shared_ptr<BufferBudget> budget;
  std::size_t buffer_size = 64 * 1024;  ///< the most each direction holds
  /// End the splice (errc::idle_timeout, both sides aborted) when no byte
  /// moved either way for this long. Zero: no idle timeout.
  sdk::Duration idle_timeout = sdk::Duration::zero();
  /// Bumped with every write's bytes (and its parents); null: not counted.
  std::shared_ptr<ByteCounter> bytes;
  /// Released only after both streams are destroyed: what their code needs
  /// (the backend plugin that made one, and its library).
  std::shared_ptr<const void> keep_alive;
};

/// Starts copying. `initial_a_to_b` are bytes already read from `a` (after a
/// header) that must reach `b` first. `done` runs once, on a's executor.
void splice(sdk::ByteStreamPtr a, sdk::ByteStreamPtr b, std::vector<std::uint8_t> initial_a_to_b,
            std::function<void(const SpliceResult&)> done, const SpliceOptions& options);

void splice(sdk::ByteStreamPtr a, sdk::ByteStreamPtr b, std::vector<std::uint8_t> initial_a_to_b,
            std::function<void(const SpliceResult&)> done, SpliceTracker* tracker = nullptr,
            std::size_t buffer_size = 64 * 1024);

/// Bytes held right now by the copy buffers of every splice in the process
/// (all threads): what idle and busy splices cost, for tests and metrics.
std::size_t splice_buffer_bytes();

}  // namespace warren::core

#pragma once
// Copies bytes both ways between two streams (a public client and a tunnel
// stream, or a tunnel stream and a backend) until both directions ended.
// One fixed buffer per direction and a read only after the previous write
// completed: a slow side slows the other, nothing buffers without bound.
// EOF on one side becomes a half-close on the other; an error or reset on
// either side aborts both.

#include <warren/sdk/byte_stream.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace warren::core {

struct SpliceResult {
  std::uint64_t a_to_b = 0;  ///< bytes copied from a to b (initial bytes included)
  std::uint64_t b_to_a = 0;
  sdk::error_code error;  ///< the first failure, or none when both sides closed cleanly
};

/// Counts live splices; `on_idle` runs when the count falls to zero (drain).
class SpliceTracker {
 public:
  std::size_t active() const { return *active_; }
  void when_idle(std::function<void()> callback);

 private:
  friend class SpliceCounter;
  std::shared_ptr<std::size_t> active_ = std::make_shared<std::size_t>(0);
  std::shared_ptr<std::function<void()>> on_idle_ = std::make_shared<std::function<void()>>();
};

/// Starts copying. `initial_a_to_b` are bytes already read from `a` (after a
/// header) that must reach `b` first. `done` runs once, on a's executor.
void splice(sdk::ByteStreamPtr a, sdk::ByteStreamPtr b, std::vector<std::uint8_t> initial_a_to_b,
            std::function<void(const SpliceResult&)> done, SpliceTracker* tracker = nullptr,
            std::size_t buffer_size = 64 * 1024);

}  // namespace warren::core

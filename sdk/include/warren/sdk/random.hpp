#pragma once
// Injected randomness. Sans-io code (policies, supervisor) never calls a
// global generator: it draws from the RandomSource it is handed, so a test
// with a fixed seed gets the same decisions every run.

#include <cstdint>

namespace warren::sdk {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  /// 64 uniformly distributed bits.
  virtual std::uint64_t next_u64() = 0;

  /// Uniform in [0, 1), 53 bits of precision; same result on every platform.
  double uniform01() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform01(); }
};

/// SplitMix64: a small, fast, well-mixed generator with a fixed algorithm, so
/// a seed reproduces the same sequence everywhere. Not for secrets.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next_u64() override {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

}  // namespace warren::sdk

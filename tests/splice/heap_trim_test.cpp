// When the process gives freed heap back after a burst of closed streams:
// exact sequences through the sans-io policy.

#include "core/splice/heap_trim.hpp"

#include <catch2/catch.hpp>

#include <vector>

using warren::core::HeapTrimPolicy;

namespace {

/// Opens `open` streams, then closes them all; returns the live counts at
/// which a trim was asked for.
std::vector<std::size_t> burst(HeapTrimPolicy& policy, std::size_t open) {
  for (std::size_t i = 0; i < open; ++i) policy.opened();
  std::vector<std::size_t> trims;
  for (std::size_t i = 0; i < open; ++i)
    if (policy.closed()) trims.push_back(policy.live());
  return trims;
}

}  // namespace

TEST_CASE("a burst of closes trims at each halving, a few times in all") {
  HeapTrimPolicy policy(256);
  CHECK(burst(policy, 10000) == std::vector<std::size_t>{5000, 2500, 1250, 625, 312, 56});
  CHECK(policy.live() == 0);
}

TEST_CASE("churn below the minimum never trims, and a new peak starts a new count") {
  HeapTrimPolicy policy(256);
  for (int round = 0; round < 100; ++round) CHECK(burst(policy, 200).empty());
  // 300 open with 200 already closed before: the peak is 300, so the trim
  // comes once 256 of them have gone (44 left, under half of 300).
  CHECK(burst(policy, 300) == std::vector<std::size_t>{44});
}

TEST_CASE("closes that keep the live count above half the peak do not trim") {
  HeapTrimPolicy policy(10);
  for (int i = 0; i < 100; ++i) policy.opened();
  for (int i = 0; i < 49; ++i) CHECK_FALSE(policy.closed());
  CHECK(policy.closed());  // 50 left: half the peak
  CHECK(policy.peak() == 50);
  // Up again to 80, then down: the next trim is at 40, half of the new peak.
  for (int i = 0; i < 30; ++i) policy.opened();
  for (int i = 0; i < 39; ++i) CHECK_FALSE(policy.closed());
  CHECK(policy.closed());
  CHECK(policy.live() == 40);
}

TEST_CASE("a burst that trimmed owes one settle trim when its last stream is gone") {
  HeapTrimPolicy policy(256);
  // 1,000 open, 700 close: one halving trim (at 500 live), no settle yet.
  for (int i = 0; i < 1000; ++i) policy.opened();
  std::vector<std::size_t> trims;
  for (int i = 0; i < 700; ++i) {
    if (policy.closed()) trims.push_back(policy.live());
    CHECK_FALSE(policy.settle_due());
  }
  CHECK(trims == std::vector<std::size_t>{500});
  // The rest close: one more halving (at 244, under half of 500), then the
  // close that empties the burst asks for the settle trim, once.
  trims.clear();
  std::vector<std::size_t> settles;
  for (int i = 0; i < 300; ++i) {
    if (policy.closed()) trims.push_back(policy.live());
    if (policy.settle_due()) settles.push_back(policy.live());
  }
  CHECK(trims == std::vector<std::size_t>{244});
  CHECK(settles == std::vector<std::size_t>{0});
  CHECK_FALSE(policy.settle_due());
  // Churn below min_released after it: neither kind of trim.
  for (int round = 0; round < 10; ++round) {
    CHECK(burst(policy, 100).empty());
    CHECK_FALSE(policy.settle_due());
  }
}

TEST_CASE("churn that never trimmed owes no settle trim") {
  HeapTrimPolicy policy(256);
  for (int round = 0; round < 20; ++round) {
    CHECK(burst(policy, 200).empty());
    CHECK_FALSE(policy.settle_due());
  }
}

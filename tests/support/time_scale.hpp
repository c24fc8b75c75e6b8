#pragma once
// Upper bounds on durations in tests, stretched when the code under test runs
// slowed down: under ASan + UBSan (scripts/sanitize-env.sh sets
// WARREN_TEST_TIME_SCALE=3) a handshake or a process start takes 2-3x longer,
// while what a bound checks ("at once, not after the 5 s timeout") still
// holds. Lower bounds ("it waited for the timeout") are never scaled.
// Applied where tests wait: BackgroundProcess::wait_for_line/wait_exit/stop,
// run_process and run_until (stream_pair.hpp) scale the deadline they are
// given, so a test passes plain durations to them.

#include <chrono>
#include <cstdlib>

namespace warren::test {

/// WARREN_TEST_TIME_SCALE as a factor ≥ 1 (1 when unset or not a number ≥ 1).
inline double time_scale() {
  static const double scale = [] {
    const char* text = std::getenv("WARREN_TEST_TIME_SCALE");
    double value = text ? std::strtod(text, nullptr) : 1.0;
    return value >= 1.0 ? value : 1.0;
  }();
  return scale;
}

/// `bound` times time_scale(), in milliseconds.
template <class Rep, class Period>
std::chrono::milliseconds scaled(std::chrono::duration<Rep, Period> bound) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(bound);
  return std::chrono::milliseconds(
      static_cast<std::chrono::milliseconds::rep>(static_cast<double>(ms.count()) * time_scale()));
}

}  // namespace warren::test

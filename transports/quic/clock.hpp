#pragma once
// ngtcp2 measures time in nanoseconds on a clock of our choosing; this is it.

#include <ngtcp2/ngtcp2.h>

#include <chrono>

namespace warren::quic {

inline ngtcp2_tstamp now_ns() {
  return static_cast<ngtcp2_tstamp>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

}  // namespace warren::quic

// The QUIC plugin's own stream-window tuning (stream_window.hpp), in exact
// sequences: it replaces ngtcp2 0.12's, whose lost-frame bug closed
// connections with FLOW_CONTROL_ERROR under loss.
#include "stream_window.hpp"

#include <catch2/catch.hpp>

using warren::quic::StreamWindow;

namespace {
constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t ms = 1'000'000;  // ns
constexpr std::uint64_t srtt = 10 * ms;
}  // namespace

TEST_CASE("quic: a reader that keeps up doubles its stream window up to the maximum", "[quic][window]") {
  StreamWindow w;
  // Half of 64 KiB read at once: credit for it plus 64 KiB of growth.
  CHECK(w.on_consumed(32 * KiB, 5 * ms, srtt, 64 * KiB, 256 * KiB) == 96 * KiB);
  CHECK(w.window() == 128 * KiB);
  // Reads below half the window give back only what was read.
  CHECK(w.on_consumed(32 * KiB, 6 * ms, srtt, 64 * KiB, 256 * KiB) == 32 * KiB);
  CHECK(w.on_consumed(32 * KiB, 7 * ms, srtt, 64 * KiB, 256 * KiB) == 32 * KiB + 128 * KiB);
  CHECK(w.window() == 256 * KiB);
  // At the maximum it grows no more.
  CHECK(w.on_consumed(128 * KiB, 8 * ms, srtt, 64 * KiB, 256 * KiB) == 128 * KiB);
  CHECK(w.window() == 256 * KiB);
}

TEST_CASE("quic: a slow reader keeps its stream window", "[quic][window]") {
  StreamWindow w;
  CHECK(w.on_consumed(16 * KiB, 0, srtt, 64 * KiB, 1024 * KiB) == 16 * KiB);
  // The second half-window took 100 ms, ten RTTs: no growth.
  CHECK(w.on_consumed(16 * KiB, 100 * ms, srtt, 64 * KiB, 1024 * KiB) == 16 * KiB);
  CHECK(w.window() == 64 * KiB);
  // A fresh epoch started there: half a window within 2 RTTs now grows it.
  CHECK(w.on_consumed(32 * KiB, 110 * ms, srtt, 64 * KiB, 1024 * KiB) == 96 * KiB);
}

TEST_CASE("quic: the stream window stops at a maximum that is not a doubling, and needs an RTT", "[quic][window]") {
  StreamWindow capped;
  CHECK(capped.on_consumed(32 * KiB, 0, srtt, 64 * KiB, 96 * KiB) == 64 * KiB);
  CHECK(capped.window() == 96 * KiB);
  StreamWindow no_rtt;  // before any RTT sample, nothing grows
  CHECK(no_rtt.on_consumed(64 * KiB, 0, 0, 64 * KiB, 1024 * KiB) == 64 * KiB);
  CHECK(no_rtt.window() == 64 * KiB);
}

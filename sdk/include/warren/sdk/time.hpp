#pragma once
// Time vocabulary. Sans-io code never reads a clock: callers pass `now`.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace warren::sdk {

using Duration = std::chrono::nanoseconds;
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

/// Parses "250ms", "30s", "5m", "1h30m", "1.5s". Units: ns, us, ms, s, m, h.
/// Returns nullopt for anything else (no unit, negative, overflow).
std::optional<Duration> parse_duration(std::string_view text);

/// The shortest exact rendering: 1500ms -> "1.5s", 90s -> "1m30s".
std::string format_duration(Duration d);

/// A duration for a person reading a log line, rounded to what matters:
/// "850 ns", "12 us", "250 ms", "0.9 s", "2 s", "4.5 s", "45 s", "2 min 5 s",
/// "3 h 20 min". Not parseable back (use format_duration for config text).
std::string human_duration(Duration d);

}  // namespace warren::sdk

#include <warren/sdk/detail/time_impl.hpp>

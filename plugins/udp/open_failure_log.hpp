#pragma once
// What the udp backend logs when it cannot open a flow's socket, sans-io
// (the caller passes `now`). Each flow holds a descriptor, so a connector at
// its open-file limit refuses every new flow: each reason (an errno value)
// gets one warning, then at most one line per 10 s with the count held back
// (core's RepeatSummary, one per reason), and an info line when a socket
// opens again. Without it a connector out of descriptors only counted
// backend_refused closes (trial finding: 211 of 400 flows, no word why).

#include "core/log/repeat_summary.hpp"

#include <warren/sdk/log.hpp>
#include <warren/sdk/time.hpp>

#include <map>
#include <optional>
#include <string>

namespace warren::udp {

struct LogLine {
  sdk::LogLevel level;
  std::string text;
};

class OpenFailureLog {
 public:
  static constexpr sdk::Duration every = std::chrono::seconds(10);

  /// Opening or connecting a flow's socket failed with `error` (an errno
  /// value) at `now`: the line to log, or nullopt while it is held back.
  std::optional<LogLine> failed(int error, sdk::TimePoint now);
  /// A flow's socket opened: a line when failures were held back since the
  /// last one that opened ("… again after N failed attempts in T").
  std::optional<LogLine> opened(sdk::TimePoint now);

  /// "Too many open files; each flow holds a descriptor: raise …" for
  /// EMFILE: the error's words and what the operator can do. Pure.
  static std::string reason(int error);

 private:
  std::map<int, core::RepeatSummary> by_reason_;
};

}  // namespace warren::udp

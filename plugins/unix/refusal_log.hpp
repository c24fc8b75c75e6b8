#pragma once
// What the unix backend logs when a connect is refused, sans-io (the caller
// passes `now`). A service that is down refuses every public connection, so
// each reason (ENOENT: no socket there; ECONNREFUSED: nobody listens;
// EACCES: permission) gets one line, then at most one line per 10 s with the
// count held back in between (core's RepeatSummary, one per reason), and a
// line when connects succeed again. Info level; a permission problem is the
// operator's to fix, so it is a warning.

#include "core/log/repeat_summary.hpp"

#include <warren/sdk/log.hpp>
#include <warren/sdk/time.hpp>

#include <map>
#include <optional>
#include <string>

namespace warren::unix_socket {

struct LogLine {
  sdk::LogLevel level;
  std::string text;
};

class RefusalLog {
 public:
  static constexpr sdk::Duration every = std::chrono::seconds(10);

  /// `path` as the config writes it ("/run/app.sock" or "@name").
  explicit RefusalLog(std::string path) : path_(std::move(path)) {}

  /// A connect refused with `error` (an errno value) at `now`: the line to
  /// log, or nullopt while this reason's lines are held back.
  std::optional<LogLine> refused(int error, sdk::TimePoint now);
  /// A connect succeeded: a line when refusals were held back since the
  /// last success ("… takes streams again after N failed attempts in T").
  std::optional<LogLine> connected(sdk::TimePoint now);

  /// The words for `error`: "no socket there (ENOENT)". Pure.
  static std::string reason(int error, bool abstract);

 private:
  std::string path_;
  std::map<int, core::RepeatSummary> by_reason_;
};

}  // namespace warren::unix_socket

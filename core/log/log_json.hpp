#pragma once
// --log-format json: an spdlog formatter writing each line as one JSON object
//   {"time":"2026-12-01T09:20:18.123Z","level":"info","component":"connector",
//    "leg":0,"tunnel":"web","message":"registered with edge 'edge-1'; …"}
// time in RFC 3339 UTC with milliseconds; leg and tunnel null when the line
// has none. Serialised by Boost.JSON, so any message text is escaped right.

#include "core/log/logging.hpp"

#include <spdlog/formatter.h>

#include <memory>
#include <string>

namespace warren::core {

/// The fields of the line being logged, read by the formatters; set by
/// FieldLogger and PluginLogger around one spdlog call (same thread: the
/// stderr sink formats synchronously).
struct CurrentLogFields {
  const LogFields* fields = nullptr;
};
CurrentLogFields& current_log_fields();

/// The process's fields (set_log_context).
struct ProcessLogContext {
  std::string component = "warren";
  std::string tunnel;
};
const ProcessLogContext& process_log_context();

class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonLogFormatter>(); }
};

/// "2026-12-01T09:20:18.123Z".
std::string rfc3339_utc_ms(std::chrono::system_clock::time_point at);

}  // namespace warren::core

#pragma once
// Process-wide logging (spdlog to stderr) and the sdk::Logger handed to each
// plugin, which prefixes lines with the plugin's kind and name.
//
// Two formats (--log-format): text, a line a person reads
// ("2026-12-01T09:20:18.123 info  leg 0: registered …"), and json, one object
// per line for log shippers (log_json.hpp). Context that a shipper filters on
// (the component, the leg, the tunnel) is passed as LogFields through
// FieldLogger (leg_log, tunnel_log): text renders it as the prefix the lines
// always had, json as fields beside a message without that prefix.

#include <warren/sdk/log.hpp>

#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace warren::core {

enum class LogFormat { text, json };

/// "trace", "debug", "info", "warn", "error"; nullopt for anything else.
std::optional<sdk::LogLevel> parse_log_level(std::string_view text);
/// "text" or "json"; nullopt for anything else.
std::optional<LogFormat> parse_log_format(std::string_view text);

/// Sends logs to stderr at `level` and above, in `format`. Call once, early in main.
void configure_logging(sdk::LogLevel level, LogFormat format = LogFormat::text);

/// The process logger (stderr).
spdlog::logger& log();

/// The context of one log line. Empty / nullopt fields fall back to the
/// process's (set_log_context), then to none (json: null).
struct LogFields {
  std::string_view component;   ///< "edge", "connector", "transport/quic" …
  std::optional<unsigned> leg;  ///< the connector's leg index (conn_index on the edge)
  std::string_view tunnel;      ///< the tunnel id
};

/// The fields of every line that names none itself: the run's component
/// ("edge", "connector"; "warren" until set) and, for a connector, its tunnel.
void set_log_context(std::string component, std::string tunnel = {});

/// Logs with LogFields. Text: "leg N: ", "tunnel 'T': " or "tunnel 'T' leg N "
/// before the message, as the lines were written before --log-format; json:
/// the fields apart. Use as a temporary: `leg_log(i).info("registered …", …)`
/// (it keeps views of the strings it was given).
class FieldLogger {
 public:
  explicit FieldLogger(LogFields fields) : fields_(fields) {}

  template <typename... Args>
  void trace(fmt::format_string<Args...> f, Args&&... args) { emit(sdk::LogLevel::trace, f, std::forward<Args>(args)...); }
  template <typename... Args>
  void debug(fmt::format_string<Args...> f, Args&&... args) { emit(sdk::LogLevel::debug, f, std::forward<Args>(args)...); }
  template <typename... Args>
  void info(fmt::format_string<Args...> f, Args&&... args) { emit(sdk::LogLevel::info, f, std::forward<Args>(args)...); }
  template <typename... Args>
  void warn(fmt::format_string<Args...> f, Args&&... args) { emit(sdk::LogLevel::warn, f, std::forward<Args>(args)...); }
  template <typename... Args>
  void error(fmt::format_string<Args...> f, Args&&... args) { emit(sdk::LogLevel::error, f, std::forward<Args>(args)...); }

  /// Writes `message` (already formatted) at `level` with the fields.
  void write(sdk::LogLevel level, std::string_view message) const;

 private:
  template <typename... Args>
  void emit(sdk::LogLevel level, fmt::format_string<Args...> f, Args&&... args) {
    if (enabled(level)) write(level, fmt::format(f, std::forward<Args>(args)...));
  }
  static bool enabled(sdk::LogLevel level);

  LogFields fields_;
};

/// A connector leg's lines: "leg N: …".
inline FieldLogger leg_log(unsigned leg) { return FieldLogger({.leg = leg}); }
/// A tunnel's lines on the edge: "tunnel 'T': …", or "tunnel 'T' leg N …" with a leg.
inline FieldLogger tunnel_log(std::string_view tunnel, std::optional<unsigned> leg = std::nullopt) {
  return FieldLogger({.leg = leg, .tunnel = tunnel});
}

/// An sdk::Logger writing through the process logger with a "[prefix] " tag
/// (text) or the component "KIND/NAME" (json), from a prefix "KIND NAME".
class PluginLogger final : public sdk::Logger {
 public:
  explicit PluginLogger(std::string prefix);
  bool enabled(sdk::LogLevel level) const override;
  void log(sdk::LogLevel level, std::string_view message) override;

 private:
  std::string prefix_;
  std::string component_;
};

}  // namespace warren::core

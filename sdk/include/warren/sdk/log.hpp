#pragma once
// The logger a plugin is handed. Core prefixes each line with the plugin's
// kind and name; plugins need no logging library of their own.

#include <string_view>

namespace warren::sdk {

enum class LogLevel { trace, debug, info, warn, error };

class Logger {
 public:
  virtual ~Logger() = default;
  virtual bool enabled(LogLevel level) const = 0;
  virtual void log(LogLevel level, std::string_view message) = 0;

  void debug(std::string_view m) { if (enabled(LogLevel::debug)) log(LogLevel::debug, m); }
  void info(std::string_view m) { if (enabled(LogLevel::info)) log(LogLevel::info, m); }
  void warn(std::string_view m) { if (enabled(LogLevel::warn)) log(LogLevel::warn, m); }
  void error(std::string_view m) { if (enabled(LogLevel::error)) log(LogLevel::error, m); }
};

}  // namespace warren::sdk

#pragma once
// Process-wide logging (spdlog to stderr) and the sdk::Logger handed to each
// plugin, which prefixes lines with the plugin's kind and name.

#include <warren/sdk/log.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace warren::core {

/// "trace", "debug", "info", "warn", "error"; nullopt for anything else.
std::optional<sdk::LogLevel> parse_log_level(std::string_view text);

/// Sends logs to stderr at `level` and above. Call once, early in main.
void configure_logging(sdk::LogLevel level);

/// The process logger (stderr).
spdlog::logger& log();

/// An sdk::Logger writing through the process logger with a "[prefix] " tag.
class PluginLogger final : public sdk::Logger {
 public:
  explicit PluginLogger(std::string prefix) : prefix_(std::move(prefix)) {}
  bool enabled(sdk::LogLevel level) const override;
  void log(sdk::LogLevel level, std::string_view message) override;

 private:
  std::string prefix_;
};

}  // namespace warren::core

#include "core/log/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace warren::core {
namespace {

spdlog::level::level_enum to_spdlog(sdk::LogLevel level) {
  switch (level) {
    case sdk::LogLevel::trace: return spdlog::level::trace;
    case sdk::LogLevel::debug: return spdlog::level::debug;
    case sdk::LogLevel::info: return spdlog::level::info;
    case sdk::LogLevel::warn: return spdlog::level::warn;
    case sdk::LogLevel::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::shared_ptr<spdlog::logger>& process_logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_color_st("warren");
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
    l->set_level(spdlog::level::info);
    return l;
  }();
  return logger;
}

}  // namespace

std::optional<sdk::LogLevel> parse_log_level(std::string_view text) {
  if (text == "trace") return sdk::LogLevel::trace;
  if (text == "debug") return sdk::LogLevel::debug;
  if (text == "info") return sdk::LogLevel::info;
  if (text == "warn" || text == "warning") return sdk::LogLevel::warn;
  if (text == "error") return sdk::LogLevel::error;
  return std::nullopt;
}

void configure_logging(sdk::LogLevel level) { process_logger()->set_level(to_spdlog(level)); }

spdlog::logger& log() { return *process_logger(); }

bool PluginLogger::enabled(sdk::LogLevel level) const { return process_logger()->should_log(to_spdlog(level)); }

void PluginLogger::log(sdk::LogLevel level, std::string_view message) {
  process_logger()->log(to_spdlog(level), "[{}] {}", prefix_, message);
}

}  // namespace warren::core

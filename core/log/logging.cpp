#include "core/log/logging.hpp"

#include "core/log/log_json.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>

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

LogFormat format_in_use = LogFormat::text;

ProcessLogContext& mutable_context() {
  static ProcessLogContext context;
  return context;
}

// The prefix the text lines always had for these fields.
std::string text_prefix(const LogFields& f) {
  if (!f.tunnel.empty())
    return "tunnel '" + std::string(f.tunnel) + "'" + (f.leg ? " leg " + std::to_string(*f.leg) + " " : ": ");
  if (f.leg) return "leg " + std::to_string(*f.leg) + ": ";
  return {};
}

// Logs `message` with `fields` visible to the json formatter for this one call.
void log_with(const LogFields& fields, sdk::LogLevel level, std::string_view message) {
  auto& current = current_log_fields();
  current.fields = &fields;
  process_logger()->log(to_spdlog(level), "{}", message);
  current.fields = nullptr;
}

}  // namespace

CurrentLogFields& current_log_fields() {
  thread_local CurrentLogFields current;
  return current;
}

const ProcessLogContext& process_log_context() { return mutable_context(); }

std::optional<sdk::LogLevel> parse_log_level(std::string_view text) {
  if (text == "trace") return sdk::LogLevel::trace;
  if (text == "debug") return sdk::LogLevel::debug;
  if (text == "info") return sdk::LogLevel::info;
  if (text == "warn" || text == "warning") return sdk::LogLevel::warn;
  if (text == "error") return sdk::LogLevel::error;
  return std::nullopt;
}

std::optional<LogFormat> parse_log_format(std::string_view text) {
  if (text == "text") return LogFormat::text;
  if (text == "json") return LogFormat::json;
  return std::nullopt;
}

void configure_logging(sdk::LogLevel level, LogFormat format) {
  process_logger()->set_level(to_spdlog(level));
  format_in_use = format;
  if (format == LogFormat::json) process_logger()->set_formatter(std::make_unique<JsonLogFormatter>());
}

void set_log_context(std::string component, std::string tunnel) {
  mutable_context() = {std::move(component), std::move(tunnel)};
}

spdlog::logger& log() { return *process_logger(); }

bool FieldLogger::enabled(sdk::LogLevel level) { return process_logger()->should_log(to_spdlog(level)); }

void FieldLogger::write(sdk::LogLevel level, std::string_view message) const {
  if (format_in_use == LogFormat::json) return log_with(fields_, level, message);
  process_logger()->log(to_spdlog(level), "{}{}", text_prefix(fields_), message);
}

PluginLogger::PluginLogger(std::string prefix) : prefix_(std::move(prefix)), component_(prefix_) {
  std::replace(component_.begin(), component_.end(), ' ', '/');  // "transport quic" -> "transport/quic"
}

bool PluginLogger::enabled(sdk::LogLevel level) const { return process_logger()->should_log(to_spdlog(level)); }

void PluginLogger::log(sdk::LogLevel level, std::string_view message) {
  if (format_in_use == LogFormat::json) return log_with(LogFields{.component = component_}, level, message);
  process_logger()->log(to_spdlog(level), "[{}] {}", prefix_, message);
}

}  // namespace warren::core

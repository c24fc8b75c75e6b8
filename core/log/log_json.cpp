#include "core/log/log_json.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <ctime>

namespace warren::core {
namespace {

const char* level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "info";
  }
}

}  // namespace

std::string rfc3339_utc_ms(std::chrono::system_clock::time_point at) {
  auto seconds = std::chrono::system_clock::to_time_t(at);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count() % 1000;
  if (ms < 0) ms += 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  auto n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  return std::string(text, n) + fmt::format(".{:03}Z", ms);
}

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const auto& process = process_log_context();
  const LogFields* fields = current_log_fields().fields;
  std::string_view component = fields && !fields->component.empty() ? fields->component : process.component;
  std::string_view tunnel = fields && !fields->tunnel.empty() ? fields->tunnel : process.tunnel;

  boost::json::object line;
  line["time"] = rfc3339_utc_ms(msg.time);
  line["level"] = level_name(msg.level);
  line["component"] = component;
  if (fields && fields->leg) line["leg"] = *fields->leg;
  else line["leg"] = nullptr;
  if (tunnel.empty()) line["tunnel"] = nullptr;
  else line["tunnel"] = tunnel;
  line["message"] = std::string_view(msg.payload.data(), msg.payload.size());
  auto text = boost::json::serialize(line);
  dest.append(text.data(), text.data() + text.size());
  dest.push_back('\n');
}

}  // namespace warren::core

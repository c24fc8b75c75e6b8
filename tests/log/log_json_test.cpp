// --log-format json's formatter: one object per line with exactly the six
// fields, RFC 3339 UTC times with milliseconds, and any message text escaped.

#include "core/log/log_json.hpp"

#include <boost/json/parse.hpp>

#include <spdlog/details/log_msg.h>

#include <catch2/catch.hpp>

using namespace warren::core;

namespace {

boost::json::object format(std::string_view message, const LogFields* fields) {
  spdlog::details::log_msg msg(spdlog::source_loc{}, "warren", spdlog::level::warn, message);
  msg.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764580818123));  // 2025-12-01T09:20:18.123Z
  current_log_fields().fields = fields;
  spdlog::memory_buf_t out;
  JsonLogFormatter().format(msg, out);
  current_log_fields().fields = nullptr;
  std::string text(out.data(), out.size());
  REQUIRE(text.ends_with("\n"));
  REQUIRE(text.find('\n') == text.size() - 1);  // one line, whatever the message holds
  return boost::json::parse(text).as_object();
}

}  // namespace

TEST_CASE("log json: a line with a leg and a tunnel has all six fields") {
  LogFields fields{.component = "connector", .leg = 1u, .tunnel = "web"};
  auto line = format("registered with edge 'e1'", &fields);
  CHECK(line.size() == 6);
  CHECK(line.at("time") == "2025-12-01T09:20:18.123Z");
  CHECK(line.at("level") == "warn");
  CHECK(line.at("component") == "connector");
  CHECK(line.at("leg") == 1);
  CHECK(line.at("tunnel") == "web");
  CHECK(line.at("message") == "registered with edge 'e1'");
}

TEST_CASE("log json: a line without context has null leg and tunnel and the process's component") {
  auto line = format("listening", nullptr);
  CHECK(line.size() == 6);
  CHECK(line.at("component").as_string() == process_log_context().component.c_str());
  CHECK(line.at("leg").is_null());
  CHECK(line.at("tunnel").is_null());
}

TEST_CASE("log json: quotes, backslashes, newlines and control bytes are escaped") {
  std::string nasty = "say \"hi\" \\ path C:\\x\nsecond line\ttab \x01 bell\x07 caf\xc3\xa9";
  LogFields fields{.tunnel = "t\"1"};
  auto line = format(nasty, &fields);
  CHECK(std::string(line.at("message").as_string()) == nasty);
  CHECK(line.at("tunnel") == "t\"1");
}

TEST_CASE("log json: times are UTC with milliseconds, zero-padded") {
  using namespace std::chrono;
  CHECK(rfc3339_utc_ms(system_clock::time_point(milliseconds(5))) == "1970-01-01T00:00:00.005Z");
  CHECK(rfc3339_utc_ms(system_clock::time_point(milliseconds(1764580818123))) == "2025-12-01T09:20:18.123Z");
}

TEST_CASE("log format names: text and json, nothing else") {
  CHECK(parse_log_format("text") == LogFormat::text);
  CHECK(parse_log_format("json") == LogFormat::json);
  CHECK_FALSE(parse_log_format("JSON"));
  CHECK_FALSE(parse_log_format("logfmt"));
}

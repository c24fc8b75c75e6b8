// `--log-format json` with the real binaries: every stderr line of an edge
// and a connector is one JSON object with time, level, component, leg,
// tunnel and message, and the leg and tunnel lines carry them as fields.
// A bad value is bad usage (exit 2).

#include "process.hpp"
#include "tunnel_fixture.hpp"

#include <boost/json/parse.hpp>

#include <catch2/catch.hpp>

#include <csignal>
#include <regex>
#include <thread>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

/// Every line of `err` parsed; a line that is not a JSON object with exactly
/// the six fields fails the test.
std::vector<boost::json::object> parse_lines(const std::string& err) {
  std::vector<boost::json::object> out;
  const std::regex time(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)");
  for (const auto& line : lines(err)) {
    INFO(line);
    boost::system::error_code ec;
    auto value = boost::json::parse(line, ec);
    REQUIRE(!ec);
    REQUIRE(value.is_object());
    const auto& o = value.as_object();
    CHECK(o.size() == 6);
    REQUIRE(o.contains("time"));
    CHECK(std::regex_match(std::string(o.at("time").as_string()), time));
    CHECK(o.at("level").is_string());
    CHECK(o.at("component").is_string());
    CHECK((o.at("leg").is_null() || o.at("leg").is_number()));
    CHECK((o.at("tunnel").is_null() || o.at("tunnel").is_string()));
    CHECK(o.at("message").is_string());
    out.push_back(o);
  }
  return out;
}

bool has_line(const std::vector<boost::json::object>& lines, const std::string& component, std::int64_t leg,
              const std::string& tunnel, const std::string& message_start) {
  for (const auto& o : lines)
    if (o.at("component") == component.c_str() && o.at("leg").is_number() && o.at("leg").to_number<std::int64_t>() == leg &&
        o.at("tunnel") == tunnel.c_str() && std::string(o.at("message").as_string()).starts_with(message_start))
      return true;
  return false;
}

}  // namespace

TEST_CASE("log format json: every line of an edge and a connector is one object with the fields") {
  TempDir dir;
  EchoServer echo;
  Edge edge(dir.path, {.extra_args = "--log-format=json"});
  Connector connector(dir.path, {.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = echo.port(),
                                 .extra_args = "--log-format=json"});
  REQUIRE(connector.wait_registered(20s));
  // Leg 1 starts a stagger after leg 0 registered: wait for its line too.
  auto until = std::chrono::steady_clock::now() + 20s;
  while (connector.process().stderr_text().find(R"("leg":1,"tunnel":"web","message":"registered)") == std::string::npos &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(50ms);
  CHECK(connector.process().stop(SIGTERM, 15s) == 0);
  CHECK(edge.process().stop(SIGTERM, 15s) == 0);

  auto connector_err = connector.process().stderr_text();
  auto edge_err = edge.process().stderr_text();
  INFO("connector:\n" << connector_err << "edge:\n" << edge_err);
  auto connector_lines = parse_lines(connector_err);
  auto edge_lines = parse_lines(edge_err);
  REQUIRE(!connector_lines.empty());
  REQUIRE(!edge_lines.empty());
  // The connector's leg lines: the leg and the tunnel apart, no "leg N: " in the message.
  CHECK(has_line(connector_lines, "connector", 0, "web", "registered with edge 'edge-test'"));
  CHECK(has_line(connector_lines, "connector", 1, "web", "registered with edge 'edge-test'"));
  // The edge's tunnel lines: "tunnel 'web' leg 0 registered from …" as fields.
  CHECK(has_line(edge_lines, "edge", 0, "web", "registered from 127.0.0.1:"));
  for (const auto& o : connector_lines) CHECK_FALSE(std::string(o.at("message").as_string()).starts_with("leg "));
  for (const auto& o : edge_lines) CHECK_FALSE(std::string(o.at("message").as_string()).starts_with("tunnel '"));
}

TEST_CASE("log format text keeps the lines people read, prefixes included") {
  TempDir dir;
  EchoServer echo;
  Edge edge(dir.path, {.extra_args = "--log-format=text"});
  Connector connector(dir.path, {.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = echo.port()});
  REQUIRE(connector.wait_registered(20s));
  CHECK(connector.process().stop(SIGTERM, 15s) == 0);
  CHECK(edge.process().stop(SIGTERM, 15s) == 0);
  const std::regex stamp(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} (trace|debug|info |warning|error) )");
  CHECK_THAT(connector.process().stderr_text(), Catch::Contains("leg 0: registered with edge 'edge-test'"));
  CHECK_THAT(edge.process().stderr_text(), Catch::Contains("tunnel 'web' leg 0 registered from 127.0.0.1:"));
  for (const auto& line : lines(connector.process().stderr_text())) {
    INFO(line);
    CHECK(std::regex_search(line, stamp));
  }
}

TEST_CASE("log format: an unknown value is bad usage, exit 2, naming the flag") {
  auto r = run_process({WARREN_BINARY, "--log-format", "xml", "version"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--log-format") && Catch::Contains("xml"));
  auto after = run_process({WARREN_BINARY, "version", "--log-format=logfmt"});
  CHECK(after.exit_code == 2);
  CHECK_THAT(after.err, Catch::Contains("--log-format"));
}

// What a new user ran into with the connector (issue 8 follow-ups), with the
// real binary: a failing discovery says why in its retry line, /status and
// /metrics; a second replica on the same fixed [admin] address exits 1
// naming the address; the admin URL the connector logs answers with an index.

#include "background_process.hpp"
#include "loopback_services.hpp"
#include "process.hpp"
#include "tunnel_fixture.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <netinet/in.h>
#include <regex>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

// WARREN_TEST_BINARY runs this test against another build's `warren`, as the fixture does.
std::string warren_binary() {
  const char* other = std::getenv("WARREN_TEST_BINARY");
  return other && *other ? other : WARREN_BINARY;
}

struct HttpAnswer {
  int status = 0;  ///< 0: no answer
  std::string body;
};

HttpAnswer get(std::uint16_t port, const std::string& path) {
  auto r = run_process(
      {"/usr/bin/curl", "-s", "-m", "5", "-w", "\n%{http_code}", "http://127.0.0.1:" + std::to_string(port) + path});
  auto cut = r.out.rfind('\n');
  if (r.exit_code != 0 || cut == std::string::npos) return {};
  return {std::atoi(r.out.c_str() + cut + 1), r.out.substr(0, cut)};
}

std::string address(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

/// A connector config whose discovery cannot succeed: `discovery` lines, an
/// echo backend that is never reached, and [admin] on `admin`.
std::filesystem::path write_config(const std::filesystem::path& dir, const std::string& name,
                                   const std::string& discovery, std::uint16_t admin) {
  auto file = dir / (name + ".toml");
  std::ofstream(file) << "[tunnel]\nid = \"web\"\ntoken = \"s3cret\"\nha_connections = 1\ninsecure = true\n"
                      << "[[transport]]\nplugin = \"quic\"\n"
                      << "[discovery]\n"
                      << discovery << "\n"
                      << "[backend]\nplugin = \"tcp\"\naddress = \"127.0.0.1:9\"\n"
                      << "[[policy]]\nplugin = \"backoff\"\nbase = \"100ms\"\nmax = \"500ms\"\n"
                      << "[admin]\naddress = \"" << address(admin) << "\"\n";
  return file;
}

}  // namespace

TEST_CASE("a failing discovery says which record and resolver in its retry line and in /status and /metrics") {
  TempDir dir;
  const auto resolver = address(free_udp_port());
  const std::uint16_t admin = free_tcp_port();
  auto config = write_config(dir.path, "connector",
                             "plugin = \"dns-srv\"\nname = \"_warren._udp.example.test\"\nresolvers = [\"" + resolver +
                                 "\"]\ntimeout = \"200ms\"\nattempts = 1",
                             admin);
  BackgroundProcess connector({warren_binary(), "connect", "--config", config.string()}, dir.path / "connector.err");
  auto log = [&] { return connector.stderr_text(); };
  // The retry line itself carries the reason: the error's name, the record and the resolver.
  const std::string reason =
      "discovery failed (discovery_failed): _warren._udp.example.test: no answer from resolver " + resolver;
  REQUIRE(eventually([&] { return log().find(reason) != std::string::npos; }, 10s));
  INFO(log());
  CHECK(log().find("retrying in") != std::string::npos);
  {
    std::string text = log();
    auto at = text.find(reason);
    auto line = text.substr(at, text.find('\n', at) - at);
    CHECK_THAT(line, Catch::Contains("; retrying in"));
  }

  HttpAnswer status;
  REQUIRE(eventually([&] { return (status = get(admin, "/status")).status == 200; }, 10s));
  auto doc = boost::json::parse(status.body).as_object();
  REQUIRE(doc.contains("discovery"));
  const auto& discovery = doc.at("discovery").as_object();
  REQUIRE(discovery.at("last_error").is_object());
  const auto& last = discovery.at("last_error").as_object();
  CHECK(last.at("error") == "discovery_failed");
  CHECK_THAT(std::string(last.at("detail").as_string()),
             Catch::Contains("_warren._udp.example.test") && Catch::Contains(resolver));
  CHECK(std::regex_match(std::string(last.at("time").as_string()),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  CHECK(discovery.at("last_success").is_null());
  CHECK(discovery.at("failures").as_object().at("discovery_failed").as_int64() >= 1);

  auto metrics = get(admin, "/metrics");
  REQUIRE(metrics.status == 200);
  auto failures = metric_value(metrics.body, "warren_connector_discovery_failures_total{reason=\"discovery_failed\"}");
  REQUIRE(failures);
  CHECK(*failures >= 1.0);
  CHECK(connector.stop(SIGTERM, 10s) == std::optional<int>(0));
}

TEST_CASE("a second replica on the same fixed admin address exits 1 naming the address and / lists the endpoints") {
  TempDir dir;
  const std::uint16_t admin = free_tcp_port();
  // Neither needs an edge: the admin endpoints serve from the start.
  const std::string discovery = "plugin = \"static\"\nedges = [\"" + address(free_udp_port()) + "\"]";
  BackgroundProcess first(
      {warren_binary(), "connect", "--config", write_config(dir.path, "a", discovery, admin).string()},
      dir.path / "a.err");
  REQUIRE(eventually([&] { return get(admin, "/ready").status != 0; }, 10s));

  // The URL the connector logs answers with where to go next.
  auto index = get(admin, "/");
  CHECK(index.status == 200);
  CHECK_THAT(index.body, Catch::Contains("/metrics") && Catch::Contains("/ready") && Catch::Contains("/status"));

  BackgroundProcess second(
      {warren_binary(), "connect", "--config", write_config(dir.path, "b", discovery, admin).string()},
      dir.path / "b.err");
  auto code = second.wait_exit(10s);
  INFO(second.stderr_text());
  REQUIRE(code);
  CHECK(*code == 1);  // a runtime failure, not a config error (2)
  CHECK_THAT(second.stderr_text(), Catch::Contains(address(admin)) && Catch::Contains("already in use"));
  CHECK(first.running());
  CHECK(first.stop(SIGTERM, 10s) == std::optional<int>(0));
}

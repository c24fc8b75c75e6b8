// The connector's [admin] endpoints with real processes: /ready says 503
// while no leg is registered and 200 after; /status shows both legs on two
// edges with their addresses; /metrics the same in Prometheus text; after
// one edge is killed, the leg it carried records the loss with its error
// name, moves to the other edge, and the log says so in one line.

#include "loopback_services.hpp"
#include "process.hpp"
#include "tunnel_fixture.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <regex>
#include <set>
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

boost::json::object status(std::uint16_t admin) {
  auto answer = get(admin, "/status");
  if (answer.status != 200) return {};
  return boost::json::parse(answer.body).as_object();
}

/// The leg of `doc` whose address is `at`, or -1.
int leg_at(const boost::json::object& doc, const std::string& at) {
  if (!doc.contains("legs")) return -1;
  for (const auto& leg : doc.at("legs").as_array()) {
    const auto& o = leg.as_object();
    if (o.at("address").is_string() && o.at("address").as_string() == at.c_str())
      return static_cast<int>(o.at("leg").as_int64());
  }
  return -1;
}

std::size_t count_matches(const std::string& text, const std::regex& pattern) {
  return static_cast<std::size_t>(
      std::distance(std::sregex_iterator(text.begin(), text.end(), pattern), std::sregex_iterator()));
}

}  // namespace

TEST_CASE("the connector's admin endpoints show readiness, both legs and a lost leg's history") {
  TempDir dir;
  EchoServer echo;
  const std::uint16_t admin = free_tcp_port();
  const std::vector<std::uint16_t> ports{free_udp_port(), free_udp_port(), free_udp_port()};

  // The connector starts first: its edges are not up yet, so no leg can register.
  auto config = dir.path / "connector.toml";
  std::ofstream(config) << "[tunnel]\nid = \"web\"\ntoken = \"s3cret\"\nha_connections = 2\ninsecure = true\n"
                        << "grace_period = \"2s\"\nstagger = \"100ms\"\n"
                        << "[[transport]]\nplugin = \"quic\"\n"
                        << "[discovery]\nplugin = \"static\"\nedges = [\"" << address(ports[0]) << "\", \""
                        << address(ports[1]) << "\", \"" << address(ports[2]) << "\"]\n"
                        << "[backend]\nplugin = \"tcp\"\naddress = \"" << address(echo.port()) << "\"\n"
                        << "[[policy]]\nplugin = \"backoff\"\nbase = \"100ms\"\nmax = \"500ms\"\n"
                        << "[admin]\naddress = \"" << address(admin) << "\"\n";
  BackgroundProcess connector({warren_binary(), "connect", "--config", config.string()}, dir.path / "connector.err");
  auto log = [&] { return connector.stderr_text(); };

  HttpAnswer ready;
  REQUIRE(eventually([&] { return (ready = get(admin, "/ready")).status != 0; }, 10s));
  CHECK(ready.status == 503);
  auto before = status(admin);
  REQUIRE(before.contains("legs"));
  CHECK(before.at("ready") == false);

  // Three edges; the two legs take two of them, the third is spare.
  std::map<std::uint16_t, std::unique_ptr<Edge>> edges;
  for (auto port : ports) {
    auto folder = dir.path / std::to_string(port);
    std::filesystem::create_directories(folder);
    edges[port] = std::make_unique<Edge>(folder, EdgeOptions{.listen_port = port});
  }
  INFO(log());
  REQUIRE(eventually([&] { return get(admin, "/ready").status == 200; }, 15s));
  boost::json::object doc;
  REQUIRE(eventually(
      [&] {
        doc = status(admin);
        int held = 0;
        for (auto port : ports) held += leg_at(doc, address(port)) >= 0 ? 1 : 0;
        return held == 2 && doc.at("legs").as_array().at(0).at("state") == "registered" &&
               doc.at("legs").as_array().at(1).at("state") == "registered";
      },
      15s));
  // Leg 1's edge dies; the spare is where it should go.
  const int moving_leg = 1;
  std::uint16_t port_b = 0, port_spare = 0;
  for (auto port : ports) {
    int leg = leg_at(doc, address(port));
    if (leg == moving_leg) port_b = port;
    if (leg < 0) port_spare = port;
  }
  REQUIRE(port_b != 0);
  REQUIRE(port_spare != 0);
  CHECK(doc.at("tunnel") == "web");
  CHECK(std::regex_match(std::string(doc.at("connector_id").as_string()), std::regex("[0-9a-f]{16}")));
  CHECK(doc.at("ready") == true);
  const auto& legs = doc.at("legs").as_array();
  REQUIRE(legs.size() == 2);
  for (const auto& leg : legs) {
    CHECK(leg.at("state") == "registered");
    CHECK(leg.at("transport") == "quic");
    CHECK(leg.at("history").as_array().back().at("event") == "registered");
  }
  const std::string leg_label = "leg=\"" + std::to_string(moving_leg) + "\"";

  auto metrics = get(admin, "/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metric_value(metrics.body, "warren_connector_ready") == 1.0);
  CHECK(metric_value(metrics.body, "warren_connector_legs{state=\"registered\"}") == 2.0);
  CHECK(metric_value(metrics.body, "warren_connector_leg_address{" + leg_label + ",address=\"" + address(port_b) +
                                       "\",transport=\"quic\"}") == 1.0);
  CHECK(metric_value(metrics.body, "warren_connector_leg_registrations_total{" + leg_label + "}") >= 1.0);

  // Kill the edge that carries `moving_leg`: its history records the loss
  // with the error's name, then the move to the surviving edge.
  const std::regex move_line("leg " + std::to_string(moving_leg) +
                             ": moving from 127\\.0\\.0\\.1:" + std::to_string(port_b) +
                             " to 127\\.0\\.0\\.1:" + std::to_string(port_spare) + " after ([a-z_]+)\n");
  const auto moves_before = count_matches(log(), move_line);
  REQUIRE(edges[port_b]->process().stop(SIGKILL, 5s).has_value());
  const auto killed_at = Clock::now();
  std::string loss_error;
  bool rehomed = eventually(
      [&] {
        doc = status(admin);
        if (leg_at(doc, address(port_spare)) != moving_leg) return false;
        const auto& leg = doc.at("legs").as_array().at(static_cast<std::size_t>(moving_leg));
        if (leg.at("state") != "registered") return false;
        for (const auto& e : leg.at("history").as_array())
          if (e.at("event") == "lost" && e.at("address") == address(port_b).c_str())
            loss_error = std::string(e.at("error").as_string());
        return !loss_error.empty();
      },
      25s);
  if (!rehomed) FAIL(log() + "\n/status: " + boost::json::serialize(doc));
  const auto rehomed_after = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed_at);
  WARN("leg " << moving_leg << " lost its edge with " << loss_error << " and registered on the other after "
              << rehomed_after.count() << " ms");
  CHECK(std::regex_match(loss_error, std::regex("[a-z_]+")));
  // The history has the move from the dead edge, after that error.
  bool moved = false;
  for (const auto& e : doc.at("legs").as_array().at(static_cast<std::size_t>(moving_leg)).at("history").as_array())
    moved = moved || (e.at("event") == "moved_address" && e.at("from") == address(port_b).c_str() &&
                      e.at("address") == address(port_spare).c_str() && e.at("error") == loss_error.c_str());
  CHECK(moved);
  // One log line for the move, naming the same error.
  CHECK(count_matches(log(), move_line) == moves_before + 1);
  std::string text = log();
  std::string last_reason;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), move_line); it != std::sregex_iterator(); ++it)
    last_reason = (*it)[1].str();
  CHECK(last_reason == loss_error);

  metrics = get(admin, "/metrics");
  CHECK(metric_value(metrics.body,
                     "warren_connector_leg_losses_total{" + leg_label + ",reason=\"" + loss_error + "\"}") == 1.0);
  CHECK(metric_value(metrics.body, "warren_connector_leg_moves_total{" + leg_label + ",kind=\"address\"}") >= 1.0);
  CHECK(metric_value(metrics.body, "warren_connector_leg_address{" + leg_label + ",address=\"" + address(port_spare) +
                                       "\",transport=\"quic\"}") == 1.0);
  CHECK(get(admin, "/ready").status == 200);
  CHECK(get(admin, "/nothing").status == 404);

  CHECK(connector.stop(SIGTERM, 10s) == std::optional<int>(0));
}

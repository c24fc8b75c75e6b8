// `warren status` and the admin endpoints of both sides with real
// processes: /ready flips from 503 to 200 when the connector's legs
// register (and the edge's is 200 once it listens); `warren status` prints
// every leg with its state, edge, transport, RTT and, after the edge
// restarted under it, the reason of the reconnect; --json prints the
// document; the edge's table lists its tunnel and legs; a closed address
// is one sentence and exit 1.

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

std::string warren_binary() {
  const char* other = std::getenv("WARREN_TEST_BINARY");
  return other && *other ? other : WARREN_BINARY;
}

/// HTTP status of GET http://127.0.0.1:port/path; 0 when nothing answers.
int http_status(std::uint16_t port, const std::string& path) {
  auto r = run_process(
      {"/usr/bin/curl", "-s", "-o", "/dev/null", "-m", "5", "-w", "%{http_code}", "http://127.0.0.1:" + std::to_string(port) + path});
  return r.exit_code == 0 ? std::atoi(r.out.c_str()) : 0;
}

ProcessResult warren_status(const std::vector<std::string>& args) {
  std::vector<std::string> argv{warren_binary(), "status"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, 15s);
}

std::string address(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

boost::json::object status_json(std::uint16_t admin) {
  auto r = warren_status({"--admin", address(admin), "--json"});
  if (r.exit_code != 0) return {};
  boost::system::error_code ec;
  auto doc = boost::json::parse(r.out, ec);
  return !ec && doc.is_object() ? doc.as_object() : boost::json::object{};
}

/// Every leg of a connector's document registered, with an RTT measured.
bool all_registered_with_rtt(const boost::json::object& doc, std::size_t legs) {
  if (!doc.contains("legs") || doc.at("legs").as_array().size() != legs) return false;
  for (const auto& leg : doc.at("legs").as_array())
    if (leg.at("state") != "registered" || !leg.at("rtt_ms").is_number()) return false;
  return true;
}

bool has_line(const std::string& text, const std::regex& line) {
  std::istringstream lines(text);
  for (std::string l; std::getline(lines, l);)
    if (std::regex_match(l, line)) return true;
  return false;
}

}  // namespace

TEST_CASE("warren status prints every leg with state, edge, transport, RTT and the last reconnect's reason") {
  TempDir dir;
  EchoServer echo;
  const auto quic_port = free_udp_port();
  const auto admin = free_tcp_port();
  const auto edge_dir = dir.path / "edge";
  std::filesystem::create_directories(edge_dir);

  // The connector first: no edge answers yet, so /ready is 503 (and its legs'
  // dials fail: "last failure" until a reconnect has a reason of its own).
  Connector connector(dir.path, {.edge_port = quic_port,
                                 .backend_port = echo.port(),
                                 .transport_extra = "[admin]\naddress = \"" + address(admin) + "\""});
  INFO(connector.process().stderr_text());
  int ready = 0;
  REQUIRE(eventually([&] { return (ready = http_status(admin, "/ready")) != 0; }, 10s));
  CHECK(ready == 503);
  auto before = warren_status({"--config", (dir.path / "connector.toml").string()});
  CHECK(before.exit_code == 0);
  CHECK_THAT(before.out, Catch::Contains("not ready (no leg registered)"));

  auto edge = std::make_unique<Edge>(edge_dir, EdgeOptions{.listen_port = quic_port});
  CHECK(http_status(edge->admin_port(), "/ready") == 200);
  REQUIRE(eventually([&] { return http_status(admin, "/ready") == 200; }, 15s));
  boost::json::object doc;
  REQUIRE(eventually([&] { return all_registered_with_rtt(doc = status_json(admin), 2); }, 15s));
  CHECK(doc.at("role") == "connector");
  CHECK(doc.at("config_file") == (dir.path / "connector.toml").string().c_str());

  auto text = warren_status({"--admin", address(admin)});
  REQUIRE(text.exit_code == 0);
  INFO(text.out);
  CHECK_THAT(text.out, Catch::StartsWith("connector "));
  CHECK_THAT(text.out, Catch::Contains("tunnel 'web'"));
  CHECK_THAT(text.out, Catch::Contains("LEG  STATE       EDGE"));
  for (int leg : {0, 1})
    CHECK(has_line(text.out, std::regex(std::to_string(leg) + R"( +registered +127\.0\.0\.1:)" +
                                        std::to_string(quic_port) + R"( +quic +\d+\.\d ms +\d.* +0 +-( \(last failure: [a-z_]+\))?)")));

  // The edge's view: its listener, the tunnel and both legs.
  auto edge_text = warren_status({"--admin", address(edge->admin_port())});
  REQUIRE(edge_text.exit_code == 0);
  INFO(edge_text.out);
  CHECK_THAT(edge_text.out, Catch::StartsWith("edge edge-test, config "));
  CHECK_THAT(edge_text.out, Catch::Contains("listeners: quic " + address(quic_port) + " (2 legs)"));
  CHECK(has_line(edge_text.out, std::regex(R"(web +127\.0\.0\.1:)" + std::to_string(edge->public_port()) +
                                           R"( +1 +0 +0 B +0 B)")));
  for (int leg : {0, 1})
    CHECK(has_line(edge_text.out, std::regex(R"(web +[0-9a-f]{16} +)" + std::to_string(leg) +
                                             R"( +registered +quic +127\.0\.0\.1:\d+ +\d+\.\d ms +\d.* +0)")));
  CHECK(edge_text.out.find(std::string(doc.at("connector_id").as_string())) != std::string::npos);

  // The edge restarts under the legs: each reconnects, and says why.
  REQUIRE(edge->process().stop(SIGKILL, 5s).has_value());
  edge.reset();
  edge = std::make_unique<Edge>(edge_dir, EdgeOptions{.listen_port = quic_port});
  bool reconnected = eventually(
      [&] {
        doc = status_json(admin);
        if (!all_registered_with_rtt(doc, 2)) return false;
        for (const auto& leg : doc.at("legs").as_array())
          if (!leg.at("last_reconnect").is_object()) return false;
        return true;
      },
      30s);
  if (!reconnected) FAIL(boost::json::serialize(doc));
  text = warren_status({"--config", (dir.path / "connector.toml").string()});
  REQUIRE(text.exit_code == 0);
  INFO(text.out);
  for (int leg : {0, 1}) {
    auto reason = std::string(
        doc.at("legs").as_array().at(static_cast<std::size_t>(leg)).at("last_reconnect").at("error").as_string());
    CHECK(std::regex_match(reason, std::regex("[a-z_]+")));
    CHECK(has_line(text.out, std::regex(std::to_string(leg) + R"( +registered +127\.0\.0\.1:)" +
                                        std::to_string(quic_port) + R"( +quic +\d+\.\d ms +\d.* +0 +)" + reason +
                                        R"( \d.* ago \(127\.0\.0\.1:)" + std::to_string(quic_port) + R"(\))")));
  }

  // --json is the document as the connector serves it.
  auto json = warren_status({"--admin", address(admin), "--json"});
  REQUIRE(json.exit_code == 0);
  auto parsed = boost::json::parse(json.out).as_object();
  CHECK(parsed.at("role") == "connector");
  CHECK(parsed.at("legs").as_array().size() == 2);
  CHECK(parsed.at("tunnel") == "web");

  CHECK(connector.process().stop(SIGTERM, 10s) == std::optional<int>(0));
}

TEST_CASE("warren status says nothing answers on the address and how to turn the admin endpoints on") {
  const auto closed = free_tcp_port();
  auto r = warren_status({"--admin", address(closed)});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("warren status: nothing answers on " + address(closed) + ": "));
  CHECK_THAT(r.err, Catch::Contains("[admin]\naddress = \"127.0.0.1:9101\""));

  auto bad = warren_status({"--admin", "127.0.0.1"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::StartsWith("warren status: --admin '127.0.0.1': "));

  // A config without an admin address: nothing to ask, and what to add.
  TempDir dir;
  std::ofstream(dir.path / "tunnel.toml")
      << "[tunnel]\nid = \"web\"\ntoken = \"s3cret\"\ninsecure = true\n[[transport]]\nplugin = \"quic\"\n"
      << "[discovery]\nplugin = \"static\"\nedges = [\"127.0.0.1:7844\"]\n"
      << "[backend]\nplugin = \"tcp\"\naddress = \"127.0.0.1:8080\"\n";
  auto none = warren_status({"--config", (dir.path / "tunnel.toml").string()});
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Catch::Contains("has no admin address; add [admin]"));

  // Port 0 in the config: the port is only known from the process's log.
  std::ofstream(dir.path / "tunnel.toml", std::ios::app) << "[admin]\naddress = \"127.0.0.1:0\"\n";
  auto any_port = warren_status({"--config", (dir.path / "tunnel.toml").string()});
  CHECK(any_port.exit_code == 2);
  CHECK_THAT(any_port.err, Catch::Contains("on port 0 (any free port); give --admin HOST:PORT"));

  auto both = warren_status({"--admin", address(closed), "--config", (dir.path / "tunnel.toml").string()});
  CHECK(both.exit_code == 2);
}

// The edge's limits with real processes: a dead leg frees its streams at
// once, refusals are immediate resets with their true reason, idle public
// connections end, and one source's idle connections or connection flood
// leave room for everyone else. (The full-length runs: tests/tools/limits_acceptance.sh.)

#include "background_process.hpp"
#include "loopback_services.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <csignal>
#include <optional>
#include <thread>

using namespace warren::test;
using namespace std::chrono_literals;
using boost::asio::ip::tcp;

namespace {

const std::string loadgen = std::string(WARREN_TOOLS_DIR) + "/warren-loadgen";

double metric(const Edge& edge, const std::string& sample) { return edge.metric(sample).value_or(-1); }

tcp::endpoint public_endpoint(std::uint16_t port) { return {boost::asio::ip::make_address("127.0.0.1"), port}; }

/// Legitimate echo probes from 127.0.0.2 (another source than the load).
std::pair<int, int> probe(std::uint16_t port, int count, int interval_ms, const std::filesystem::path& dir) {
  BackgroundProcess p({loadgen, "probe", "--port", std::to_string(port), "--bind", "127.0.0.2", "--count",
                       std::to_string(count), "--interval-ms", std::to_string(interval_ms), "--timeout-ms", "2000"},
                      dir / "probe.err");
  auto line = p.wait_for_line(std::regex(R"(^ok=(\d+) of=(\d+)$)"), std::chrono::milliseconds(count * (interval_ms + 2500)));
  INFO(p.stderr_text());
  REQUIRE(line);
  return {std::stoi((*line)[1]), std::stoi((*line)[2])};
}

}  // namespace

TEST_CASE("when a connector is killed, streams whose clients read nothing are reset at once and a restart serves at once") {
  TempDir dir;
  ScriptedBackend backend{'z'};  // streams zeros to every connection, reads nothing
  Edge edge(dir.path, {.extra = "max_streams_per_tunnel = 8\n"});
  auto connector = std::make_unique<Connector>(
      dir.path, ConnectorOptions{.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = backend.port(),
                                 .ha_connections = 1});
  REQUIRE(connector->wait_registered(10s));

  boost::asio::io_context io;
  std::vector<tcp::socket> clients;
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back(io);
    clients.back().open(tcp::v4());
    clients.back().set_option(boost::asio::socket_base::receive_buffer_size(4096));
    clients.back().connect(public_endpoint(edge.public_port()));  // and then never read
  }
  REQUIRE(eventually([&] { return metric(edge, "warren_streams_active") == 8 && backend.connections('z') == 8; }, 10s));
  // Wait until every path is full: no byte moves toward the clients any more,
  // so nothing is pending on the tunnel streams, only on the public sockets.
  double last = -1;
  REQUIRE(eventually(
      [&] {
        auto now = static_cast<double>(backend.zeros_written());
        bool still = now > 0 && now == last;
        last = now;
        return still;
      },
      20s));

  connector->process().stop(SIGKILL, 5s);
  // The edge notices the silent leg (heartbeat or QUIC idle timeout); from
  // then on its streams must be gone within 1 s, clients reading or not.
  std::optional<std::chrono::steady_clock::time_point> noticed;
  double active = -1;
  REQUIRE(eventually(
      [&] {
        auto text = edge.metrics();
        if (!noticed && metric_value(text, "warren_legs") == 0.0) noticed = std::chrono::steady_clock::now();
        active = metric_value(text, "warren_streams_active").value_or(-1);
        return noticed && (active == 0 || std::chrono::steady_clock::now() - *noticed > 1s);
      },
      20s));
  INFO(edge.process().stderr_text());
  CHECK(active == 0);
  CHECK(metric(edge, "warren_streams_aborted_leg_gone_total") == 8);
  // Each client learns with a reset, though it never read its bytes.
  for (auto& client : clients) {
    boost::system::error_code ec;
    std::vector<char> sink(1 << 20);
    while (!ec) client.read_some(boost::asio::buffer(sink), ec);
    CHECK(ec == boost::asio::error::connection_reset);
  }

  connector = std::make_unique<Connector>(
      dir.path, ConnectorOptions{.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = backend.port(),
                                 .ha_connections = 1});
  REQUIRE(connector->wait_registered(10s));
  tcp::socket fresh(io);
  fresh.connect(public_endpoint(edge.public_port()));
  std::vector<char> some(1);
  std::optional<boost::system::error_code> got;
  boost::asio::async_read(fresh, boost::asio::buffer(some), [&](boost::system::error_code ec, std::size_t) { got = ec; });
  io.restart();
  io.run_for(2s);
  REQUIRE(got);
  CHECK_FALSE(*got);
}

TEST_CASE("a public client with no live leg is reset at once and counted as no_live_leg") {
  TempDir dir;
  EchoServer echo;
  Edge edge(dir.path);
  Connector connector(dir.path, {.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = echo.port()});
  REQUIRE(connector.wait_registered(10s));
  REQUIRE(connector.process().stop(SIGTERM, 10s));
  REQUIRE(eventually([&] { return metric(edge, "warren_legs") == 0; }, 15s));

  boost::asio::io_context io;
  tcp::socket client(io);
  client.connect(public_endpoint(edge.public_port()));
  auto started = std::chrono::steady_clock::now();
  boost::system::error_code ec;
  char byte;
  client.read_some(boost::asio::buffer(&byte, 1), ec);
  CHECK(ec == boost::asio::error::connection_reset);
  CHECK(std::chrono::steady_clock::now() - started < 1s);
  CHECK(metric(edge, "warren_public_refused_total{reason=\"no_live_leg\"}") == 1);
  CHECK_THAT(edge.process().stderr_text(), Catch::Contains("no live connector leg"));
}

TEST_CASE("a public connection that moves no byte is closed after public_idle_timeout, a talking one is not") {
  TempDir dir;
  EchoServer echo;
  Edge edge(dir.path, {.extra = "public_idle_timeout = \"1500ms\"\n"});
  Connector connector(dir.path, {.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = echo.port()});
  REQUIRE(connector.wait_registered(10s));

  boost::asio::io_context io;
  tcp::socket silent(io), talking(io);
  silent.connect(public_endpoint(edge.public_port()));
  talking.connect(public_endpoint(edge.public_port()));
  auto started = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::duration> silent_ended;
  char byte;
  silent.async_read_some(boost::asio::buffer(&byte, 1), [&](boost::system::error_code ec, std::size_t) {
    if (ec) silent_ended = std::chrono::steady_clock::now() - started;
  });
  // The talking client echoes a byte every 500 ms for 4 s.
  bool talking_ok = true;
  for (int i = 0; i < 8 && talking_ok; ++i) {
    io.restart();
    io.run_for(500ms);
    boost::system::error_code ec;
    boost::asio::write(talking, boost::asio::buffer("x", 1), ec);
    char back = 0;
    if (!ec) boost::asio::read(talking, boost::asio::buffer(&back, 1), ec);
    talking_ok = !ec && back == 'x';
  }
  CHECK(talking_ok);
  REQUIRE(silent_ended);
  CHECK(*silent_ended >= 1400ms);
  CHECK(*silent_ended < 4s);
  CHECK(metric(edge, "warren_public_idle_closed_total") == 1);
}

TEST_CASE("idle connections held by one source leave room for a client from another source") {
  TempDir dir;
  EchoServer echo;
  // Shipped limits: the per-tunnel cap (1000) is the only one old builds have.
  Edge edge(dir.path);
  Connector connector(dir.path, {.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = echo.port()});
  REQUIRE(connector.wait_registered(10s));

  BackgroundProcess holder({loadgen, "idle", "--port", std::to_string(edge.public_port()), "--count", "1200",
                            "--hold", "25"},
                           dir.path / "idle.err");
  REQUIRE(holder.wait_for_line(std::regex(R"(^held \d+$)"), 15s));
  auto [ok, of] = probe(edge.public_port(), 10, 300, dir.path);
  INFO(edge.process().stderr_text().substr(0, 4000));
  CHECK(ok >= 9);
  CHECK(metric(edge, "warren_streams_active") <= 256);
  CHECK(metric(edge, "warren_public_refused_total{reason=\"source_limit\"}") +
            metric(edge, "warren_public_refused_total{reason=\"source_rate\"}") >=
        1200 - 256);
  // Refusals are logged once per source per interval, not once each.
  auto log = edge.process().stderr_text();
  std::size_t lines = 0;
  for (auto at = log.find("refused a public connection"); at != std::string::npos;
       at = log.find("refused a public connection", at + 1))
    ++lines;
  CHECK(lines >= 1);
  CHECK(lines <= 4);
}

TEST_CASE("a connection flood from one source leaves room for a client from another source") {
  TempDir dir;
  EchoServer echo;
  Edge edge(dir.path);
  Connector connector(dir.path, {.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = echo.port()});
  REQUIRE(connector.wait_registered(10s));

  auto flood = [&](const char* name) {
    return std::make_unique<BackgroundProcess>(
        std::vector<std::string>{loadgen, "flood", "--port", std::to_string(edge.public_port()), "--seconds", "12",
                                 "--inflight", "256"},
        dir.path / name);
  };
  auto first = flood("flood1.err");
  auto second = flood("flood2.err");
  std::this_thread::sleep_for(1s);  // let the flood reach its pace before the probes start
  auto [ok, of] = probe(edge.public_port(), 16, 500, dir.path);
  auto summary = first->wait_for_line(std::regex(R"(^attempts=(\d+) .*$)"), 15s);
  INFO((summary ? (*summary)[0].str() : std::string("no flood summary")));
  INFO(edge.process().stderr_text().substr(0, 4000));
  CHECK(ok >= 15);
  CHECK(metric(edge, "warren_public_refused_total{reason=\"source_rate\"}") > 0);
}

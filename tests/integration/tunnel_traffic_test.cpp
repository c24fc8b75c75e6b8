// Traffic through a real tunnel: curl to an HTTP server, 50 parallel echo
// streams checked byte for byte, half-close, and a quick tunnel.

#include "loopback_services.hpp"
#include "process.hpp"
#include "time_scale.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <future>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::uint8_t> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

/// Polls until something accepts on 127.0.0.1:port (a server that just started).
bool wait_listening(std::uint16_t port, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    auto r = run_process({"/usr/bin/curl", "-s", "-o", "/dev/null", "-m", "1",
                          "http://127.0.0.1:" + std::to_string(port) + "/"});
    if (r.exit_code == 0) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("curl through the tunnel gets a real HTTP server's file byte for byte") {
  TempDir dir;
  auto site = dir.path / "site";
  std::filesystem::create_directories(site);
  auto body = random_bytes(5 * 1024 * 1024 + 17, 7);
  std::ofstream(site / "blob.bin", std::ios::binary).write(reinterpret_cast<const char*>(body.data()),
                                                           static_cast<std::streamsize>(body.size()));
  auto http_port = free_tcp_port();
  BackgroundProcess http({"/usr/bin/python3", "-m", "http.server", std::to_string(http_port), "--bind", "127.0.0.1",
                          "--directory", site.string()},
                         dir.path / "http.err");
  REQUIRE(wait_listening(http_port, 10s));

  Edge edge(dir.path);
  Connector connector(dir.path, {.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = http_port});
  REQUIRE(connector.wait_registered(10s));
  auto address = edge.tunnel_address("web", 5s);
  REQUIRE(address);
  CHECK(*address == "127.0.0.1:" + std::to_string(edge.public_port()));

  for (int i = 0; i < 3; ++i) {
    auto out = dir.path / ("got-" + std::to_string(i));
    REQUIRE(curl_to_file(edge.public_port(), "/blob.bin", out) == 0);
    CHECK(sha256_hex(read_file(out)) == sha256_hex(body));
  }
  auto metrics = edge.metrics();
  CHECK_THAT(metrics, Catch::Contains("warren_streams_total 3"));
  // "tunnel web" follows the first leg; the second may come a moment later.
  CHECK(eventually([&] { return edge.metric("warren_legs") == 2.0; }, 10s));
}

TEST_CASE("50 parallel connections of 1 MiB each come back intact") {
  EchoTunnel tunnel;
  std::vector<std::future<bool>> results;
  for (int i = 0; i < 50; ++i) {
    results.push_back(std::async(std::launch::async, [port = tunnel.public_port(), i] {
      auto data = random_bytes(1024 * 1024, 1000 + static_cast<std::uint64_t>(i));
      auto back = echo_round_trip(port, data, 60s);
      return sha256_hex(back) == sha256_hex(data);
    }));
  }
  int intact = 0;
  for (auto& r : results) intact += r.get() ? 1 : 0;
  CHECK(intact == 50);
  CHECK(tunnel.echo.connections() == 50);
}

TEST_CASE("half-close: the client's end reaches the service and the reply still comes back") {
  EchoTunnel tunnel;  // the echo service echoes until EOF, then closes its side
  // echo_round_trip half-closes after sending and reads to EOF: it returns
  // only if the FIN crossed the tunnel both ways.
  std::vector<std::uint8_t> request{'p', 'i', 'n', 'g'};
  CHECK(echo_round_trip(tunnel.public_port(), request, 10s) == request);
  CHECK(echo_round_trip(tunnel.public_port(), {}, 10s).empty());  // FIN alone
}

TEST_CASE("warren quick prints a working public address within a second") {
  TempDir dir;
  EchoServer echo;
  Edge edge(dir.path, {.quick_tunnels = true});
  auto started = std::chrono::steady_clock::now();
  BackgroundProcess quick({WARREN_BINARY, "quick", "--edge", "127.0.0.1:" + std::to_string(edge.quic_port()), "--to",
                           "127.0.0.1:" + std::to_string(echo.port()), "--fingerprint", edge.pin()},
                          dir.path / "quick.err");
  auto line = quick.wait_for_line(std::regex(R"(^127\.0\.0\.1:(\d+)$)"), 5s);
  auto elapsed = std::chrono::steady_clock::now() - started;
  INFO(quick.stderr_text());
  REQUIRE(line);
  CHECK(elapsed < scaled(1s));
  CHECK(quick.lines().size() == 1);  // the address alone
  auto port = static_cast<std::uint16_t>(std::stoi((*line)[1]));
  auto data = random_bytes(256 * 1024, 3);
  CHECK(echo_round_trip(port, data, 10s) == data);
  CHECK(quick.stop(SIGTERM, 10s) == 0);
}

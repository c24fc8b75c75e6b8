// The HTTP/2 transport end to end: an edge listening with quic on UDP and
// http2 on TCP on the same port, a connector dialing with
// `[[transport]] plugin = "http2"`, curl and echo clients through the
// public port, byte for byte.

#include "loopback_services.hpp"
#include "process.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <future>
#include <regex>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

// WARREN_TEST_BINARY runs this against another build's `warren`, as the fixture does.
std::string warren_binary() {
  const char* other = std::getenv("WARREN_TEST_BINARY");
  return other && *other ? other : WARREN_BINARY;
}

std::vector<std::uint8_t> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

bool wait_listening(std::uint16_t port, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    auto r = run_process(
        {"/usr/bin/curl", "-s", "-o", "/dev/null", "-m", "1", "http://127.0.0.1:" + std::to_string(port) + "/"});
    if (r.exit_code == 0) return true;
  }
  return false;
}

/// A connector like the fixture's, dialing the edge over HTTP/2.
std::unique_ptr<BackgroundProcess> http2_connector(const std::filesystem::path& dir, const std::string& pin,
                                                   std::uint16_t edge_port, std::uint16_t backend_port) {
  auto file = dir / "connector.toml";
  std::ofstream(file) << "[tunnel]\nid = \"web\"\ntoken = \"s3cret\"\nha_connections = 2\n"
                      << "edge_fingerprint = \"" << pin << "\"\ngrace_period = \"2s\"\nstagger = \"100ms\"\n"
                      << "[[transport]]\nplugin = \"http2\"\n"
                      << "[discovery]\nplugin = \"static\"\nedges = [\"127.0.0.1:" << edge_port << "\"]\n"
                      << "[backend]\nplugin = \"tcp\"\naddress = \"127.0.0.1:" << backend_port << "\"\n"
                      << "[[policy]]\nplugin = \"backoff\"\nbase = \"100ms\"\nmax = \"1s\"\n";
  return std::make_unique<BackgroundProcess>(
      std::vector<std::string>{warren_binary(), "connect", "--config", file.string()}, dir / "connector.err");
}

/// An edge with quic and http2 on one port number (UDP and TCP), as cloudflared's 7844.
struct DualEdge {
  explicit DualEdge(const std::filesystem::path& dir)
      : port(free_tcp_port()),
        edge(dir, {.listen_port = port,
                   .more_tunnels =
                       "[[listen]]\nplugin = \"http2\"\naddress = \"127.0.0.1:" + std::to_string(port) + "\"\n"}) {}
  std::uint16_t port;
  Edge edge;
};

}  // namespace

TEST_CASE("a connector registers over http2 beside quic on the same port and curl gets a file byte for byte",
          "[http2]") {
  TempDir dir;
  auto site = dir.path / "site";
  std::filesystem::create_directories(site);
  auto body = random_bytes(5 * 1024 * 1024 + 17, 21);
  std::ofstream(site / "blob.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(body.data()), static_cast<std::streamsize>(body.size()));
  auto http_port = free_tcp_port();
  BackgroundProcess http({"/usr/bin/python3", "-m", "http.server", std::to_string(http_port), "--bind", "127.0.0.1",
                          "--directory", site.string()},
                         dir.path / "http.err");
  REQUIRE(wait_listening(http_port, 10s));

  DualEdge dual(dir.path);
  auto& edge = dual.edge;
  REQUIRE(edge.quic_port() == dual.port);
  auto http2_line = edge.process().wait_for_line(std::regex(R"(^listen http2 127\.0\.0\.1:(\d+)$)"), 5s);
  REQUIRE(http2_line);
  CHECK(std::stoi((*http2_line)[1]) == dual.port);

  auto connector = http2_connector(dir.path, edge.pin(), dual.port, http_port);
  INFO(connector->stderr_text());
  REQUIRE(connector->wait_for_line(std::regex(R"(^tunnel web \S+$)"), 10s));

  for (int i = 0; i < 2; ++i) {
    auto out = dir.path / ("got-" + std::to_string(i));
    REQUIRE(curl_to_file(edge.public_port(), "/blob.bin", out) == 0);
    CHECK(sha256_hex(read_file(out)) == sha256_hex(body));
  }
  // The legs came over the HTTP/2 listener, not QUIC.
  std::string sample =
      "warren_http2_handshakes_total{listener=\"" + std::to_string(dual.port) + "\",outcome=\"completed\"}";
  // "tunnel web" follows the first leg; the second may still be in its handshake.
  CHECK(eventually(
      [&] {
        auto completed = edge.metric(sample);
        return completed && *completed >= 2;
      },
      10s));
  INFO(edge.metrics());
  CHECK(edge.metric(sample).value_or(0) >= 2);
}

TEST_CASE("50 parallel echo streams through an http2 tunnel come back byte for byte", "[http2]") {
  TempDir dir;
  EchoServer echo;
  DualEdge dual(dir.path);
  auto connector = http2_connector(dir.path, dual.edge.pin(), dual.port, echo.port());
  INFO(connector->stderr_text());
  REQUIRE(connector->wait_for_line(std::regex(R"(^tunnel web \S+$)"), 10s));

  std::vector<std::future<bool>> results;
  for (int i = 0; i < 50; ++i) {
    results.push_back(std::async(std::launch::async, [&, i] {
      auto data = random_bytes(256 * 1024 + static_cast<std::size_t>(i), static_cast<std::uint64_t>(100 + i));
      try {
        return echo_round_trip(dual.edge.public_port(), data, 20s) == data;
      } catch (const std::exception&) {
        return false;
      }
    }));
  }
  int good = 0;
  for (auto& r : results) good += r.get() ? 1 : 0;
  CHECK(good == 50);
}

// The example configs in examples/configs (the contract's configs from
// ARCHITECTURE.md) run as written, with only ports, paths and secrets changed.

#include "loopback_services.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  std::size_t count = 0;
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()), ++count)
    text.replace(at, from.size(), to);
  REQUIRE(count > 0);  // the example still says what this test expects to change
  return text;
}

}  // namespace

TEST_CASE("the example edge and connector configs run as written") {
  TempDir dir;
  EchoServer echo;
  const std::filesystem::path examples = std::filesystem::path(WARREN_SOURCE_DIR) / "examples" / "configs";
  auto public_port = std::to_string(free_tcp_port());
  auto edge_text = read_text(examples / "edge.toml");
  edge_text = replace_all(edge_text, "127.0.0.1:7844", "127.0.0.1:0");
  edge_text = replace_all(edge_text, "127.0.0.1:9100", "127.0.0.1:0");
  edge_text = replace_all(edge_text, "public_port = 20080", "public_port = " + public_port);
  std::ofstream(dir.path / "edge.toml") << edge_text;

  BackgroundProcess edge({"/usr/bin/env", "XDG_STATE_HOME=" + (dir.path / "state").string(), WARREN_BINARY, "edge", "--config", (dir.path / "edge.toml").string()}, dir.path / "edge.err");
  auto listen = edge.wait_for_line(std::regex(R"(^listen quic (127\.0\.0\.1:\d+)$)"), 10s);
  auto pin = edge.wait_for_line(std::regex(R"(^pin (sha256:[0-9a-f]{64})$)"), 10s);
  INFO(edge.stderr_text());
  REQUIRE(listen);
  REQUIRE(pin);
  CHECK(std::filesystem::exists(dir.path / "state" / "warren" / "edge-a" / "edge.crt"));  // nothing beside the config

  auto tunnel_text = read_text(examples / "tunnel.toml");
  tunnel_text = replace_all(tunnel_text, "127.0.0.1:7844", (*listen)[1].str());
  tunnel_text = replace_all(tunnel_text, "127.0.0.1:8080", "127.0.0.1:" + std::to_string(echo.port()));
  tunnel_text = replace_all(tunnel_text, "insecure = true ", "edge_fingerprint = \"" + (*pin)[1].str() + "\" ");
  std::ofstream(dir.path / "tunnel.toml") << tunnel_text;
  BackgroundProcess connector({WARREN_BINARY, "connect", "--config", (dir.path / "tunnel.toml").string()},
                              dir.path / "connector.err");
  auto registered = connector.wait_for_line(std::regex("^tunnel web 127\\.0\\.0\\.1:" + public_port + "$"), 10s);
  INFO(connector.stderr_text());
  REQUIRE(registered);
  auto data = random_bytes(512 * 1024, 21);
  CHECK(echo_round_trip(static_cast<std::uint16_t>(std::stoi(public_port)), data, 10s) == data);
}

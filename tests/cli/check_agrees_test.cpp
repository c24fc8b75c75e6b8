// `warren check` and `warren connect` agree: what check accepts runs, and
// what connect refuses, check refuses with the same words. A connector with
// no [[policy]] runs on the bundled `backoff` plugin's defaults.

#include "background_process.hpp"
#include "cli_support.hpp"
#include "process.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <regex>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

const std::string warren_binary = WARREN_BINARY;
const std::filesystem::path examples = std::filesystem::path(WARREN_SOURCE_DIR) / "examples" / "configs";

/// The example connector config without its [[policy]] table.
std::string tunnel_without_policy() {
  return replace(read_file(examples / "tunnel.toml"), "[[policy]]\nplugin = \"backoff\"\nbase = \"1s\"\nmax = \"30s\"",
                 "");
}

}  // namespace

TEST_CASE("check accepts a connector config with no [[policy]] and names the default it uses") {
  TempConfig config(tunnel_without_policy());
  auto r = run_process({warren_binary, "check", "--config", config.file.string()});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("policies backoff (default)"));
}

TEST_CASE("a connector with no [[policy]] registers, retrying on the bundled backoff plugin") {
  TempConfig dir("[edge]\nid = \"edge-test\"\nstate_dir = \"state\"\npublic_host = \"127.0.0.1\"\n"
                 "public_ports = \"20000-29999\"\n[[listen]]\nplugin = \"quic\"\naddress = \"127.0.0.1:0\"\n"
                 "[[tunnels]]\nid = \"web\"\ntoken = \"s3cret\"\n",
                 "edge.toml");
  BackgroundProcess edge({warren_binary, "edge", "--config", dir.file.string()}, dir.dir / "edge.err");
  auto listen = edge.wait_for_line(std::regex(R"(^listen quic (127\.0\.0\.1:\d+)$)"), 10s);
  auto pin = edge.wait_for_line(std::regex(R"(^pin (sha256:[0-9a-f]{64})$)"), 10s);
  INFO(edge.stderr_text());
  REQUIRE(listen);
  REQUIRE(pin);

  auto text = replace(tunnel_without_policy(), "127.0.0.1:7844", (*listen)[1].str());
  text = replace(text, "insecure = true ", "edge_fingerprint = \"" + (*pin)[1].str() + "\" ");
  std::ofstream(dir.dir / "tunnel.toml") << text;
  REQUIRE(run_process({warren_binary, "check", "--config", (dir.dir / "tunnel.toml").string()}).exit_code == 0);
  BackgroundProcess connector({warren_binary, "connect", "--config", (dir.dir / "tunnel.toml").string()},
                              dir.dir / "connect.err");
  auto registered = connector.wait_for_line(std::regex(R"(^tunnel web 127\.0\.0\.1:\d+$)"), 15s);
  INFO(connector.stderr_text());
  CHECK(registered);
  CHECK(connector.running());
  CHECK(connector.stop(SIGTERM, 15s).has_value());
}

TEST_CASE("check and connect refuse the same configs with the same messages") {
  auto example = read_file(examples / "tunnel.toml");
  const std::vector<std::string> refused = {
      replace(example, "plugin = \"tcp\"", "plugin = \"tpc\""),          // unknown plugin
      replace(example, "address = \"127.0.0.1:8080\"", "adress = \"x\""),  // unknown key
      replace(example, "base = \"1s\"", "base = \"fast\""),               // a plugin's own table
      replace(example, "plugin = \"backoff\"", "plugin = \"static\""),    // no such policy
      replace(example, "ha_connections = 2", "ha_connections = 9"),       // core schema
      replace(example, "[backend]\nplugin = \"tcp\"\naddress = \"127.0.0.1:8080\"", ""),  // a section missing
  };
  for (const auto& text : refused) {
    TempConfig config(text);
    auto check = run_process({warren_binary, "check", "--config", config.file.string()});
    auto connect = run_process({warren_binary, "connect", "--config", config.file.string()}, 10s);
    INFO(text);
    INFO("check: " << check.err);
    INFO("connect: " << connect.err);
    CHECK(check.exit_code == 2);
    CHECK(connect.exit_code == 2);
    CHECK(check.err == connect.err);
  }
}

// `warren` as a user runs it: a real process, its output and exit code.

#include "cli_support.hpp"
#include "process.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

using namespace warren::test;

namespace {

const std::string warren_binary = WARREN_BINARY;
const std::filesystem::path examples = std::filesystem::path(WARREN_SOURCE_DIR) / "examples" / "configs";

}  // namespace

TEST_CASE("warren plugins lists the bundled plugins as KIND NAME VERSION FILE") {
  auto r = run_process({warren_binary, "plugins"});
  REQUIRE(r.exit_code == 0);
  std::regex line(R"((transport|discovery|backend|policy) [a-z0-9-]+ \d+\.\d+\.\d+ /\S+/libwarren-\1-[a-z0-9-]+\.so)");
  auto out = lines(r.out);
  for (const auto& l : out) CHECK(std::regex_match(l, line));
  auto has = [&](const std::string& prefix) {
    return std::any_of(out.begin(), out.end(), [&](const std::string& l) { return l.starts_with(prefix); });
  };
  CHECK(has("discovery static 1.0.0 "));
  CHECK(has("backend tcp 1.0.0 "));
  CHECK(has("backend unix 1.0.0 "));
  CHECK(has("backend group 1.0.0 "));
  CHECK(has("backend udp 1.0.0 "));
  CHECK(has("policy backoff 1.0.0 "));
}

TEST_CASE("warren plugins --plugin-dir adds a folder and reports refused files") {
  auto r = run_process({warren_binary, "plugins", "--plugin-dir", WARREN_TEST_PLUGIN_DIR});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains(std::string("policy fixed 1.0.0 ") + WARREN_TEST_PLUGIN_DIR + "/libwarren-policy-fixed.so"));
  CHECK_THAT(r.out, Catch::Contains("policy backoff"));  // bundled ones still found
  CHECK_THAT(r.err, Catch::Contains(std::string("refused ") + WARREN_TEST_PLUGIN_DIR + "/libwarren-policy-future.so"));
}

TEST_CASE("WARREN_PLUGIN_PATH is searched too") {
  auto r = run_process({warren_binary, "plugins"}, std::chrono::seconds(30), {std::string("WARREN_PLUGIN_PATH=") + WARREN_TEST_PLUGIN_DIR});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("policy fixed"));
}

TEST_CASE("warren check accepts the example configs") {
  for (const char* name : {"tunnel.toml", "edge.toml"}) {
    auto r = run_process({warren_binary, "check", "--config", (examples / name).string()});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains(": valid "));
  }
}

TEST_CASE("warren check says where an edge keeps its key pair, outside the checkout") {
  auto r = run_process({warren_binary, "check", "--config", (examples / "edge.toml").string()}, std::chrono::seconds(30),
                       {"XDG_STATE_HOME=/var/tmp/xdg-state", "STATE_DIRECTORY="});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::EndsWith("key pair kept in /var/tmp/xdg-state/warren/edge-a\n"));
}

TEST_CASE("a typo in [backend] exits 2 with FILE:LINE:COL and a suggestion") {
  TempConfig config(replace(read_file(examples / "tunnel.toml"), "address = \"127.0.0.1:8080\"",
                            "adress = \"127.0.0.1:8080\""));
  auto r = run_process({warren_binary, "check", "--config", config.file.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains(config.file.string() + ":25:1: unknown key 'adress' in [backend]; did you mean "
                                                           "'address'?"));
}

TEST_CASE("an unknown plugin exits 2 and lists the available ones") {
  TempConfig config(replace(read_file(examples / "tunnel.toml"), "plugin = \"tcp\"", "plugin = \"tpc\""));
  auto r = run_process({warren_binary, "check", "--config", config.file.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains(config.file.string() + ":24:10: unknown backend plugin 'tpc'; did you mean 'tcp'?"));
  CHECK_THAT(r.err, Catch::Contains("libwarren-backend-tcp.so"));
}

TEST_CASE("a config selecting a mismatched plugin is refused before it runs") {
  TempConfig config(replace(read_file(examples / "tunnel.toml"), "plugin = \"backoff\"", "plugin = \"future\""));
  auto r = run_process({warren_binary, "check", "--config", config.file.string(), "--plugin-dir", WARREN_TEST_PLUGIN_DIR});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("libwarren-policy-future.so was refused: it was built for plugin ABI"));
}

TEST_CASE("plugin_dirs in the config are searched, relative to the config file") {
  auto text = replace(read_file(examples / "tunnel.toml"), "plugin_dirs = []",
                      std::string("plugin_dirs = [\"") + WARREN_TEST_PLUGIN_DIR + "\"]");
  TempConfig config(replace(text, "plugin = \"backoff\"\nbase = \"1s\"\nmax = \"30s\"", "plugin = \"fixed\"\ndelay = \"2s\""));
  auto r = run_process({warren_binary, "check", "--config", config.file.string()});
  INFO(r.err);
  CHECK(r.exit_code == 0);
}

TEST_CASE("a TOML syntax error exits 2 with its location") {
  TempConfig config("[tunnel]\nid = \"web\n");
  auto r = run_process({warren_binary, "check", "--config", config.file.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::StartsWith(config.file.string() + ":2:"));
}

TEST_CASE("a missing config file and bad usage exit 2") {
  CHECK(run_process({warren_binary, "check", "--config", "/nonexistent.toml"}).exit_code == 2);
  CHECK(run_process({warren_binary, "check"}).exit_code == 2);
  CHECK(run_process({warren_binary, "frobnicate"}).exit_code == 2);
  CHECK(run_process({warren_binary, "plugins", "--log-level", "loud"}).exit_code == 2);
}

TEST_CASE("a mistyped command is named, with a suggestion") {
  auto r = run_process({warren_binary, "chek", "--config", "x.toml"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("warren: unknown command 'chek'; did you mean 'check'?"));
}

TEST_CASE("warren version names the plugin ABI") {
  auto r = run_process({warren_binary, "version"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("plugin ABI 1."));
}

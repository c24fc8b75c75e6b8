// `warren config-reference` prints docs/config.md from the schemas that read
// the configs, and the checked-in file is exactly what it prints.

#include "cli_support.hpp"
#include "core/config/config_schemas.hpp"
#include "process.hpp"

#include <catch2/catch.hpp>

using namespace warren;
using namespace warren::test;

namespace {

const std::string warren_binary = WARREN_BINARY;
const std::filesystem::path checked_in = std::filesystem::path(WARREN_SOURCE_DIR) / "docs" / "config.md";

/// `heading` and what follows it, up to the next heading of its level or higher.
std::string part(const std::string& reference, const std::string& heading) {
  const auto level = heading.find(' ');
  std::string out;
  bool in = false;
  for (const auto& line : lines(reference)) {
    auto hashes = line.find_first_not_of('#');
    bool is_heading = hashes != 0 && hashes != std::string::npos && line[hashes] == ' ';
    if (in && is_heading && hashes <= level) break;
    if (line == heading) in = true;
    if (in) out += line + "\n";
  }
  REQUIRE(!out.empty());
  return out;
}

/// The first line where `a` and `b` differ, for a message.
std::string first_difference(const std::string& a, const std::string& b) {
  auto la = lines(a), lb = lines(b);
  for (std::size_t i = 0; i < std::max(la.size(), lb.size()); ++i) {
    std::string x = i < la.size() ? la[i] : "(end of file)", y = i < lb.size() ? lb[i] : "(end of output)";
    if (x != y) return "line " + std::to_string(i + 1) + ":\n  docs/config.md: " + x + "\n  the binary:     " + y;
  }
  return "none";
}

}  // namespace

TEST_CASE("docs/config.md is what warren config-reference prints") {
  auto r = run_process({warren_binary, "config-reference"});
  REQUIRE(r.exit_code == 0);
  INFO(r.err);
  const std::string file = read_file(checked_in);
  if (file != r.out)
    FAIL("docs/config.md is stale (first difference at " << first_difference(file, r.out)
                                                         << ")\nregenerate it, in the source folder:\n"
                                                            "  build/bin/warren config-reference > docs/config.md");
  CHECK(r.err.empty());
}

TEST_CASE("the config reference lists every section and key of both config files") {
  auto r = run_process({warren_binary, "config-reference"});
  REQUIRE(r.exit_code == 0);
  auto sections = core::config_sections();
  REQUIRE(sections.size() >= 10);
  for (const auto& s : sections) {
    auto file = part(r.out, s.file == core::ConfigFileKind::connector ? "## Connector config (tunnel.toml)"
                                                                      : "## Edge config (edge.toml)");
    auto section = part(file, "### " + s.toml_path);
    INFO(section);
    REQUIRE(!s.keys.empty());
    for (const auto& k : s.keys) CHECK_THAT(section, Catch::Contains("| `" + k.name + "` | "));
  }
  auto tunnel = part(part(r.out, "## Connector config (tunnel.toml)"), "### [tunnel]");
  CHECK_THAT(tunnel, Catch::Contains("| `ha_connections` | integer | `2` | between 1 and 4 | parallel connections"));
  CHECK_THAT(tunnel, Catch::Contains("| `grace_period` | duration | `\"30s\"` | between 0s and 1h |"));
  CHECK_THAT(tunnel, Catch::Contains("| `token_file` | string | — |  | a file holding the secret"));
  auto listen = part(part(r.out, "## Edge config (edge.toml)"), "### [[listen]]");
  CHECK_THAT(listen, Catch::Contains("| `address` | host:port | required |"));
  CHECK_THAT(listen, Catch::Contains("| `plugin` | string | required |"));
  for (const char* word : {"Leg", "UDP", "Durations", "WARREN_PLUGIN_PATH", "lib/warren/plugins"})
    CHECK_THAT(part(r.out, "# warren configuration reference"), Catch::Contains(word));
}

TEST_CASE("the config reference describes each plugin's keys, or says it declares none") {
  auto r = run_process({warren_binary, "config-reference", "--plugin-dir", WARREN_TEST_PLUGIN_DIR});
  REQUIRE(r.exit_code == 0);
  auto backoff = part(r.out, "### policy `backoff`");
  CHECK_THAT(backoff, Catch::Contains("Version 1.0.0: Exponential backoff"));
  CHECK_THAT(backoff, Catch::Contains("Used in `[[policy]]` in tunnel.toml."));
  CHECK_THAT(backoff, Catch::Contains("| `base` | duration | `\"1s\"` | between 1ms and 1h | delay after the first"));
  CHECK_THAT(backoff, Catch::Contains("| `jitter` | string | `\"full\"` | `none`, `full`, `equal`, `proportional` |"));
  auto fixed = part(r.out, "### policy `fixed`");  // a test fixture built with the untyped WARREN_PLUGIN
  CHECK_THAT(fixed, Catch::Contains("`fixed` declares no keys"));
  auto plugins = part(r.out, "## Plugins");
  CHECK(plugins.find("### backend") < plugins.find("### policy `backoff`"));
  CHECK(plugins.find("### policy `backoff`") < plugins.find("### policy `fixed`"));
}

TEST_CASE("the config reference is the same for every caller and names no path of this machine") {
  auto plain = run_process({warren_binary, "config-reference"});
  auto with_env = run_process({warren_binary, "config-reference"}, std::chrono::seconds(30),
                              {std::string("WARREN_PLUGIN_PATH=") + WARREN_TEST_PLUGIN_DIR});
  REQUIRE(plain.exit_code == 0);
  CHECK(with_env.out == plain.out);
  CHECK_THAT(plain.out, !Catch::Contains(WARREN_SOURCE_DIR) && !Catch::Contains(WARREN_PLUGIN_DIR) &&
                            !Catch::Contains("libwarren-policy-") && !Catch::Contains("/home/") &&
                            !Catch::Contains("/tmp/"));
}

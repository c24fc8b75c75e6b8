// Every message speaks in the words of what the user typed: the edge's
// schema for `warren edge`, the flags for `warren quick`.

#include "cli_support.hpp"
#include "process.hpp"

#include <catch2/catch.hpp>

#include <regex>

using namespace warren::test;

namespace {

const std::string warren_binary = WARREN_BINARY;
const std::filesystem::path examples = std::filesystem::path(WARREN_SOURCE_DIR) / "examples" / "configs";

}  // namespace

TEST_CASE("warren edge given a folder, an empty file or a connector config says what it got") {
  TempConfig empty("", "edge.toml");
  auto folder = run_process({warren_binary, "edge", "--config", empty.dir.string()});
  CHECK(folder.exit_code == 2);
  CHECK_THAT(folder.err, Catch::Contains("this is a folder; give the config file itself"));

  auto nothing = run_process({warren_binary, "edge", "--config", empty.file.string()});
  CHECK(nothing.exit_code == 2);
  CHECK_THAT(nothing.err, Catch::Contains("the file holds no settings; an edge config needs [edge] and [[listen]]"));

  auto connector = run_process({warren_binary, "edge", "--config", (examples / "tunnel.toml").string()});
  CHECK(connector.exit_code == 2);
  CHECK_THAT(connector.err, Catch::Contains("this is a connector config (it has [tunnel]); run it with `warren connect"));

  for (const auto* r : {&folder, &nothing, &connector}) {
    INFO(r->err);
    CHECK_THAT(r->err, !Catch::Contains("[backend]") && !Catch::Contains("edge_fingerprint"));
  }

  auto edge = run_process({warren_binary, "connect", "--config", (examples / "edge.toml").string()});
  CHECK(edge.exit_code == 2);
  CHECK_THAT(edge.err, Catch::Contains("this is an edge config (it has [edge]); run it with `warren edge"));
}

TEST_CASE("warren quick names its flags, never config keys or positions in text the user did not write") {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--edge", "nohost", "--to", "127.0.0.1:8080", "--insecure"}, "warren quick: --edge \"nohost\""},
      {{"--edge", "127.0.0.1:7844", "--to", "127.0.0.1", "--insecure"}, "warren quick: --to \"127.0.0.1\""},
      {{"--edge", "127.0.0.1:7844", "--to", "127.0.0.1:80", "--fingerprint", "sha256:abc"},
       "warren quick: --fingerprint \"sha256:abc\" must be"},
      {{"--edge", "127.0.0.1:7844", "--to", "10.1.2.3:80", "--insecure"}, "--allow-remote"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv{warren_binary, "quick"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = run_process(argv);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(c.says));
    CHECK_FALSE(std::regex_search(r.err, std::regex(R"(warren quick:\d)")));
    for (const char* key : {"allow_remote", "edge_fingerprint", "edges", "'address'", "[backend]", "[tunnel]"})
      CHECK_THAT(r.err, !Catch::Contains(key));
  }
}

TEST_CASE("a value of the wrong type is named with the right article") {
  TempConfig config("plugin_dirs = 3\n");
  auto r = run_process({warren_binary, "check", "--config", config.file.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("not an integer"));
  CHECK_THAT(r.err, !Catch::Contains("a integer"));
}

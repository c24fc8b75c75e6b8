// `warren --version`, and every command's --help showing the global flags.

#include "process.hpp"

#include <catch2/catch.hpp>

#include <regex>

using namespace warren::test;

TEST_CASE("warren --version prints what warren version prints") {
  auto flag = run_process({WARREN_BINARY, "--version"});
  auto command = run_process({WARREN_BINARY, "version"});
  CHECK(flag.exit_code == 0);
  CHECK(command.exit_code == 0);
  CHECK_THAT(flag.out, Catch::StartsWith("warren "));
  CHECK(flag.out == command.out);
  CHECK(flag.err.empty());
}

TEST_CASE("every command's --help shows the global --plugin-dir and --log-level") {
  auto top = run_process({WARREN_BINARY, "--help"});
  REQUIRE(top.exit_code == 0);
  CHECK_THAT(top.out, Catch::Contains("--version"));
  // The commands as `warren --help` lists them, so a new one is covered too.
  std::vector<std::string> commands;
  bool in_list = false;
  for (const auto& line : lines(top.out)) {
    if (line.starts_with("Subcommands:")) in_list = true;
    else if (in_list && !line.empty() && line[0] != ' ') in_list = false;
    std::smatch m;
    if (in_list && std::regex_match(line, m, std::regex(R"(^  ([a-z][a-z-]*)\s.*)"))) commands.push_back(m[1]);
  }
  REQUIRE(commands.size() >= 6);
  for (const auto& command : commands) {
    auto help = run_process({WARREN_BINARY, command, "--help"});
    INFO(command << ":\n" << help.out);
    CHECK(help.exit_code == 0);
    CHECK_THAT(help.out, Catch::Contains("--plugin-dir"));
    CHECK_THAT(help.out, Catch::Contains("--log-level"));
  }
}

TEST_CASE("global flags count before and after the command") {
  auto both = run_process({WARREN_BINARY, "--log-level", "warn", "plugins", "--plugin-dir", WARREN_TEST_PLUGIN_DIR});
  CHECK(both.exit_code == 0);
  CHECK_THAT(both.out, Catch::Contains("policy fixed"));
  auto before = run_process({WARREN_BINARY, "--plugin-dir", WARREN_TEST_PLUGIN_DIR, "plugins", "--log-level", "debug"});
  CHECK(before.exit_code == 0);
  CHECK_THAT(before.out, Catch::Contains("policy fixed"));
  CHECK(run_process({WARREN_BINARY, "plugins", "--log-level", "loud"}).exit_code == 2);
}

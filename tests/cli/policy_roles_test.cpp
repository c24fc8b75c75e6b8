// `warren check` says which plugin plays each policy role; a connector with
// no [[policy]] gets the bundled `backoff` and `ip-rotation` plugins.

#include "cli_support.hpp"
#include "process.hpp"

#include <catch2/catch.hpp>

#include <regex>

using namespace warren::test;

namespace {

const std::string warren_binary = WARREN_BINARY;
const std::filesystem::path examples = std::filesystem::path(WARREN_SOURCE_DIR) / "examples" / "configs";
const std::string example_policy = "[[policy]]\nplugin = \"backoff\"\nbase = \"1s\"\nmax = \"30s\"";

std::string tunnel_with_policies(const std::string& policies) {
  return replace(read_file(examples / "tunnel.toml"), example_policy, policies);
}

}  // namespace

TEST_CASE("check names the bundled plugins that play the policy roles no [[policy]] offers") {
  TempConfig config(tunnel_with_policies(""));
  auto r = run_process({warren_binary, "check", "--config", config.file.string()});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("\npolicies: backoff \u2190 backoff (bundled default), "
                                    "address \u2190 ip-rotation (bundled default), fallback \u2190 fallback (bundled default)\n"));
}

TEST_CASE("check names a configured ip-rotation policy, and reads its keys") {
  TempConfig config(tunnel_with_policies(example_policy +
                                         "\n\n[[policy]]\nplugin = \"ip-rotation\"\nmax_edge_addr_retries = 3\n"
                                         "give_back_after = \"2m\"\nkeep_on = [\"rate_limited\"]\n"));
  auto r = run_process({warren_binary, "check", "--config", config.file.string()});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("\npolicies: backoff \u2190 backoff, address \u2190 ip-rotation, "
                                    "fallback \u2190 fallback (bundled default)\n"));
}

TEST_CASE("check refuses a bad ip-rotation key at its line and column") {
  TempConfig config(tunnel_with_policies("[[policy]]\nplugin = \"ip-rotation\"\ncount_on = [\"dial_faild\"]\n"));
  auto r = run_process({warren_binary, "check", "--config", config.file.string()});
  CHECK(r.exit_code == 2);
  std::regex expected(config.file.string() +
                      R"(:\d+:\d+: 'dial_faild' in 'count_on' is not an error name; did you mean 'dial_failed'\?)");
  INFO(r.err);
  CHECK(std::regex_search(r.err, expected));
}

TEST_CASE("warren plugins lists the ip-rotation policy") {
  auto r = run_process({warren_binary, "plugins"});
  CHECK(r.exit_code == 0);
  CHECK(std::regex_search(r.out,
                          std::regex(R"((^|\n)policy ip-rotation 1\.0\.0 \S+libwarren-policy-ip-rotation\.so\n)")));
}

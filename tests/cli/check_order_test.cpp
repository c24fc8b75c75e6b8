// `warren check`, `connect` and `edge` tell a config's errors in the order of
// the file (FILE:LINE:COL), though the core's schema finds its own before the
// plugins' (a udp [backend]'s proxy_protocol = "v1" above a core error was
// told after it: trial finding), and `connect` tells the plugins' errors too
// when the file has errors of its own, as `check` does.

#include "cli_support.hpp"
#include "process.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace warren::test;

namespace {

const std::string warren_binary = WARREN_BINARY;
const std::filesystem::path examples = std::filesystem::path(WARREN_SOURCE_DIR) / "examples" / "configs";

/// The LINE of each "FILE:LINE:COL: message" line of `err` about `file`.
std::vector<int> error_lines(const std::string& err, const std::filesystem::path& file) {
  std::vector<int> out;
  auto prefix = file.string() + ":";
  for (const auto& line : lines(err))
    if (line.starts_with(prefix)) out.push_back(std::stoi(line.substr(prefix.size())));
  return out;
}

/// `warren check` and `warren RUN` on `config` both exit 2 with two errors
/// in file order: `first` (the higher in the file), then `second`.
void two_errors_in_file_order(const TempConfig& config, const std::string& run, const std::string& first,
                              const std::string& second) {
  auto check = run_process({warren_binary, "check", "--config", config.file.string()});
  INFO(check.err);
  CHECK(check.exit_code == 2);
  auto at = error_lines(check.err, config.file);
  REQUIRE(at.size() == 2);
  CHECK(at[0] < at[1]);
  CHECK_THAT(lines(check.err)[0], Catch::Contains(first));
  CHECK_THAT(lines(check.err)[1], Catch::Contains(second));
  CHECK_THAT(check.err, Catch::EndsWith(config.file.string() + ": 2 errors\n"));

  auto ran = run_process({warren_binary, run, "--config", config.file.string()}, std::chrono::seconds(10));
  INFO(ran.err);
  CHECK(ran.exit_code == 2);
  CHECK(ran.err == check.err);
}

}  // namespace

TEST_CASE("check and connect tell a udp backend's proxy_protocol = v1 in file order among the core's errors") {
  // [backend] (a plugin's table) above [admin] (the core's): the plugin's error comes first.
  auto text = replace(read_file(examples / "tunnel.toml"), "[backend]\nplugin = \"tcp\"\naddress = \"127.0.0.1:8080\"",
                      "[backend]\nplugin = \"udp\"\naddress = \"127.0.0.1:5353\"\nproxy_protocol = \"v1\"");
  TempConfig config(text + "\n[admin]\nadress = \"127.0.0.1:0\"\n");
  two_errors_in_file_order(config, "connect", "proxy_protocol = \"v1\" cannot describe UDP", "adress");
}

TEST_CASE("check and edge tell a [[listen]] plugin's error above a [[tunnels]] error first") {
  auto text = replace(read_file(examples / "edge.toml"), "plugin = \"quic\"\naddress = \"127.0.0.1:7844\"",
                      "plugin = \"quic\"\naddress = \"127.0.0.1:7844\"\nretry = \"sometimes\"");
  TempConfig config(replace(text, "public_port = 20080", "public_prot = 20080"), "edge.toml");
  two_errors_in_file_order(config, "edge", "retry", "public_prot");
}

#include "core/config/connector_config.hpp"
#include "core/config/toml_tree.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace warren;
using namespace std::chrono_literals;

namespace {

// The contract's connector config, as ARCHITECTURE.md shows it (a real pin).
const std::string contract = R"(plugin_dirs = []

[tunnel]
id = "web"
token = "s3cret"
ha_connections = 2
edge_fingerprint = "sha256:9F:86:D0:81:88:4C:7D:65:9A:2F:EA:A0:C5:5A:D0:15:A3:BF:4F:1B:2B:0B:82:2C:D1:5D:6C:15:B0:F0:0A:08"
grace_period = "30s"

[[transport]]
plugin = "quic"

[discovery]
plugin = "static"
edges = ["127.0.0.1:7844"]

[backend]
plugin = "tcp"
address = "127.0.0.1:8080"

[[policy]]
plugin = "backoff"
base = "1s"
max = "30s"
)";

std::pair<core::ConnectorConfig, std::vector<std::string>> read(const std::string& text) {
  sdk::Diagnostics d;
  auto root = core::read_toml_text(text, "/etc/warren/tunnel.toml", d);
  REQUIRE(root);
  auto config = core::read_connector_config(*root, "/etc/warren/tunnel.toml", d);
  std::vector<std::string> errors;
  for (const auto& x : d.list()) errors.push_back(x.to_string());
  return {config, errors};
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("the contract's connector config reads as written") {
  auto [c, errors] = read(contract);
  CHECK(errors.empty());
  CHECK(c.tunnel.id == "web");
  CHECK(c.tunnel.token == "s3cret");
  CHECK(c.tunnel.ha_connections == 2);
  REQUIRE(c.tunnel.edge_pins.size() == 1);
  CHECK(c.tunnel.edge_pins[0][0] == 0x9f);
  CHECK(c.tunnel.grace_period == 30s);
  REQUIRE(c.transports.size() == 1);
  CHECK(c.transports[0].plugin == "quic");
  CHECK(c.discovery.plugin == "static");
  CHECK(c.backend.plugin == "tcp");
  REQUIRE(c.backend.table.entries.size() == 1);  // `plugin` is core's, not the plugin's
  CHECK(c.backend.table.entries[0].key == "address");
  REQUIRE(c.policies.size() == 1);
  CHECK(c.policies[0].table.entries.size() == 2);
}

TEST_CASE("core's own keys get suggestions and locations too") {
  auto [c, errors] = read(replace(contract, "ha_connections = 2", "ha_conections = 2"));
  CHECK(errors == std::vector<std::string>{
                      "/etc/warren/tunnel.toml:6:1: unknown key 'ha_conections' in [tunnel]; did you mean "
                      "'ha_connections'?"});
}

TEST_CASE("ha_connections is bounded to 1..4") {
  auto [c, errors] = read(replace(contract, "ha_connections = 2", "ha_connections = 5"));
  CHECK(errors == std::vector<std::string>{
                      "/etc/warren/tunnel.toml:6:18: 'ha_connections' = 5 is out of range: must be between 1 and 4"});
}

TEST_CASE("a malformed pin and a missing trust setting are explained") {
  auto [c1, e1] = read(replace(contract, "sha256:9F:86", "sha1:9F:86"));
  REQUIRE(e1.size() == 1);
  CHECK_THAT(e1[0], Catch::Contains("7:20: 'edge_fingerprint' must be \"sha256:\" followed by 64 hex digits"));
  auto [c2, e2] = read(replace(contract, "edge_fingerprint", "# edge_fingerprint"));
  REQUIRE(e2.size() == 1);
  CHECK_THAT(e2[0], Catch::Contains("must say how to trust the edge"));
}

TEST_CASE("an id without a token is refused but neither is a quick tunnel") {
  auto [c1, e1] = read(replace(contract, "token = \"s3cret\"", ""));
  REQUIRE(e1.size() == 1);
  CHECK_THAT(e1[0], Catch::Contains("has an 'id' but no 'token'"));
  auto [c2, e2] = read(replace(replace(contract, "token = \"s3cret\"", ""), "id = \"web\"", ""));
  CHECK(e2.empty());
  CHECK(c2.tunnel.quick());
}

TEST_CASE("token_file is read relative to the config and trimmed") {
  auto dir = std::filesystem::temp_directory_path() / "warren-config-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "token") << "  file-secret\n";
  std::filesystem::permissions(dir / "token", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  sdk::Diagnostics d;
  auto text = replace(contract, "token = \"s3cret\"", "token_file = \"token\"");
  auto root = core::read_toml_text(text, (dir / "tunnel.toml").string(), d);
  auto c = core::read_connector_config(*root, dir / "tunnel.toml", d);
  CHECK(d.ok());
  CHECK(c.tunnel.token == "file-secret");
  std::filesystem::remove_all(dir);
}

TEST_CASE("sections without a plugin, or missing, are errors") {
  auto [c1, e1] = read(replace(contract, "plugin = \"tcp\"\n", ""));
  REQUIRE(e1.size() == 1);
  CHECK(e1[0] == "/etc/warren/tunnel.toml:17:1: [backend] needs a 'plugin' key naming the plugin to use");
  auto [c2, e2] = read(replace(contract, "[discovery]\nplugin = \"static\"\nedges = [\"127.0.0.1:7844\"]\n", ""));
  REQUIRE(e2.size() == 1);
  CHECK_THAT(e2[0], Catch::Contains("missing section [discovery]"));
}

TEST_CASE("an unknown top-level section is suggested") {
  auto [c, errors] = read(contract + "\n[backends]\nx = 1\n");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::Contains("unknown key 'backends'; did you mean 'backend'?"));
}

TEST_CASE("certificate pins take any case, with or without colons") {
  auto a = warren::sdk::parse_certificate_pin("sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  auto b = warren::sdk::parse_certificate_pin(
      "SHA256:9F:86:D0:81:88:4C:7D:65:9A:2F:EA:A0:C5:5A:D0:15:A3:BF:4F:1B:2B:0B:82:2C:D1:5D:6C:15:B0:F0:0A:08");
  REQUIRE(a);
  CHECK(a == b);
  CHECK(warren::sdk::format_certificate_pin(*a) == "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  CHECK_FALSE(warren::sdk::parse_certificate_pin("sha256:9f86"));
  CHECK_FALSE(warren::sdk::parse_certificate_pin("md5:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
}

TEST_CASE("a certificate pin's prefix is sha256 in any case and nothing else (found by fuzz_pin_endpoint)") {
  const std::string digits = ":9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  CHECK(warren::sdk::parse_certificate_pin("ShA256" + digits));
  // Control bytes that equal a digit or ':' once bit 0x20 is set.
  CHECK_FALSE(warren::sdk::parse_certificate_pin("SHA25\x16" + digits));
  CHECK_FALSE(warren::sdk::parse_certificate_pin("sha\x12" "56" + digits));
  CHECK_FALSE(warren::sdk::parse_certificate_pin("sha256\x1a" + digits.substr(1)));
}

TEST_CASE("ids and tokens longer than the protocol carries are refused at their location") {
  auto [c, errors] = read(replace(contract, "token = \"s3cret\"", "token = \"" + std::string(2000, 'x') + "\""));
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::Contains("tunnel.toml:5:9: 'token' is 2000 bytes long; the control protocol carries at most 1024"));
}

TEST_CASE("an [admin] address that is not an IP literal is refused where it is written, as connect would") {
  auto [c, errors] = read(contract + "\n[admin]\naddress = \"nohost.invalid:9101\"\n");
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::Contains("'address' = \"nohost.invalid:9101\": the host must be an IP address"));
  auto [ok, none] = read(contract + "\n[admin]\naddress = \"127.0.0.1:0\"\n");
  CHECK(none.empty());
  REQUIRE(ok.admin);
  CHECK(ok.admin->port == 0);
}

// Credentials in config files: token_file open to group/others is refused
// with the chmod to run, an edge tunnel's `tokens` list (rotation), and a
// connector's edge_fingerprint list (certificate replacement).

#include "core/config/connector_config.hpp"
#include "core/config/edge_config.hpp"
#include "core/config/toml_tree.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <random>
#include <sys/stat.h>

using namespace warren;

namespace {

struct Folder {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("warren-creds-" + std::to_string(std::random_device{}()));
  Folder() { std::filesystem::create_directories(path); }
  ~Folder() { std::filesystem::remove_all(path); }
  std::filesystem::path secret(const std::string& name, const std::string& text, mode_t mode) {
    std::ofstream(path / name) << text;
    ::chmod((path / name).c_str(), mode);
    return path / name;
  }
};

std::vector<std::string> texts(const sdk::Diagnostics& d) {
  std::vector<std::string> out;
  for (const auto& x : d.list()) out.push_back(x.to_string());
  return out;
}

std::pair<core::EdgeConfig, std::vector<std::string>> edge(const std::string& tunnel,
                                                           const std::filesystem::path& file = "/srv/edge.toml") {
  std::string text =
      "[edge]\nstate_dir = \"s\"\n[[listen]]\nplugin = \"quic\"\naddress = \"127.0.0.1:0\"\n"
      "[[tunnels]]\nid = \"web\"\n" +
      tunnel;
  sdk::Diagnostics d;
  auto root = core::read_toml_text(text, file.string(), d);
  REQUIRE(root);
  auto config = core::read_edge_config(*root, file, d);
  return {config, texts(d)};
}

std::pair<core::ConnectorConfig, std::vector<std::string>> connector(
    const std::string& tunnel, const std::filesystem::path& file = "/etc/tunnel.toml") {
  std::string text = "[tunnel]\nid = \"web\"\n" + tunnel +
                     "\n[[transport]]\nplugin = \"quic\"\n[discovery]\nplugin = \"static\"\n"
                     "[backend]\nplugin = \"tcp\"\n";
  sdk::Diagnostics d;
  auto root = core::read_toml_text(text, file.string(), d);
  REQUIRE(root);
  auto config = core::read_connector_config(*root, file, d);
  return {config, texts(d)};
}

const std::string pin_a = "sha256:" + std::string(64, 'a');
const std::string pin_b = "sha256:" + std::string(64, 'b');

}  // namespace

TEST_CASE("a connector token_file readable by group or others is refused with the chmod to run") {
  Folder dir;
  auto file = dir.secret("token", "s3cret\n", 0644);
  auto [c, errors] = connector("token_file = \"token\"\ninsecure = true", dir.path / "tunnel.toml");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == (dir.path / "tunnel.toml").string() + ":3:14: token_file '" + file.string() +
                         "' is readable by group/others (mode 0644); run: chmod 600 " + file.string());
  CHECK_FALSE(c.tunnel.token);

  ::chmod(file.c_str(), 0600);
  auto [c2, errors2] = connector("token_file = \"token\"\ninsecure = true", dir.path / "tunnel.toml");
  CHECK(errors2.empty());
  CHECK(c2.tunnel.token == "s3cret");
}

TEST_CASE("an edge token_file open to group or others is refused, 0400 and 0600 are read") {
  Folder dir;
  auto file = dir.secret("web.token", "k3y", 0640);
  auto [e, errors] = edge("token_file = \"web.token\"\n", dir.path / "edge.toml");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == (dir.path / "edge.toml").string() + ":8:14: token_file '" + file.string() +
                         "' is readable by group/others (mode 0640); run: chmod 600 " + file.string());
  ::chmod(file.c_str(), 0620);
  CHECK_THAT(edge("token_file = \"web.token\"\n", dir.path / "edge.toml").second.at(0),
             Catch::Contains("is writable or executable by group/others (mode 0620); run: chmod 600"));
  for (mode_t mode : {0400, 0600}) {
    ::chmod(file.c_str(), mode);
    auto [ok, none] = edge("token_file = \"web.token\"\n", dir.path / "edge.toml");
    CHECK(none.empty());
    REQUIRE(ok.tunnels.size() == 1);
    CHECK(ok.tunnels[0].tokens == std::vector<std::string>{"k3y"});
  }
}

TEST_CASE("an edge tunnel's tokens list accepts several secrets, exclusive with token and token_file") {
  auto [e, errors] = edge("tokens = [\"old\", \"new\"]\n");
  CHECK(errors.empty());
  REQUIRE(e.tunnels.size() == 1);
  CHECK(e.tunnels[0].tokens == std::vector<std::string>{"old", "new"});

  auto [both, both_errors] = edge("token = \"x\"\ntokens = [\"old\", \"new\"]\n");
  REQUIRE(both_errors.size() == 1);
  CHECK(both_errors[0] ==
        "/srv/edge.toml:9:10: set one of 'token', 'token_file' and 'tokens', not 'token' and 'tokens'");

  auto [empty, empty_errors] = edge("tokens = []\n");
  REQUIRE(empty_errors.size() == 1);
  CHECK_THAT(empty_errors[0], Catch::Contains("needs a 'token', 'token_file' or 'tokens'"));

  auto [twice, twice_errors] = edge("tokens = [\"a\", \"\", \"a\"]\n");
  REQUIRE(twice_errors.size() == 2);
  CHECK(twice_errors[0] == "/srv/edge.toml:8:16: an empty string in 'tokens' would be nobody's secret; remove it");
  CHECK(twice_errors[1] == "/srv/edge.toml:8:20: a 'tokens' entry is listed twice");

  auto [none, none_errors] = edge("");
  REQUIRE(none_errors.size() == 1);
  CHECK_THAT(none_errors[0], Catch::Contains("needs a 'token', 'token_file' or 'tokens'"));
}

TEST_CASE("edge_fingerprint is one pin or a list of pins, each checked where it is written") {
  auto [one, e1] = connector("token = \"t\"\nedge_fingerprint = \"" + pin_a + "\"");
  CHECK(e1.empty());
  REQUIRE(one.tunnel.edge_pins.size() == 1);
  CHECK(one.tunnel.edge_pins[0][0] == 0xaa);

  auto [two, e2] = connector("token = \"t\"\nedge_fingerprint = [\"" + pin_a + "\", \"" + pin_b + "\"]");
  CHECK(e2.empty());
  REQUIRE(two.tunnel.edge_pins.size() == 2);
  CHECK(two.tunnel.edge_pins[1][0] == 0xbb);

  auto [bad, e3] = connector("token = \"t\"\nedge_fingerprint = [\"" + pin_a + "\", \"sha256:12\"]");
  REQUIRE(e3.size() == 1);
  CHECK(e3[0] ==
        "/etc/tunnel.toml:4:" + std::to_string(21 + pin_a.size() + 4) +
            ": 'edge_fingerprint' entry \"sha256:12\" must be \"sha256:\" followed by 64 hex digits (colons allowed)");

  auto [twice, e4] = connector("token = \"t\"\nedge_fingerprint = [\"" + pin_a + "\", \"" + pin_a + "\"]");
  REQUIRE(e4.size() == 1);
  CHECK_THAT(e4[0], Catch::Contains("lists " + pin_a + " twice"));

  auto [with_ca, e5] = connector("token = \"t\"\nedge_fingerprint = [\"" + pin_a + "\"]\nedge_ca = \"/\"");
  REQUIRE_FALSE(e5.empty());
  CHECK_THAT(e5.back(), Catch::Contains("more than one of edge_fingerprint, edge_ca and insecure"));
}

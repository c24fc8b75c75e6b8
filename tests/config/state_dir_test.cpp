// Where an edge keeps the key pair it makes when the config does not say:
// the service's or the user's state folder, never beside the config file.

#include "core/config/edge_config.hpp"
#include "core/config/state_dir.hpp"
#include "core/config/toml_tree.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace warren;

namespace {

core::EnvLookup env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

}  // namespace

TEST_CASE("the default state folder follows systemd, then XDG, then HOME") {
  CHECK(core::default_state_dir("edge-a", env({{"HOME", "/home/u"}})) == "/home/u/.local/state/warren/edge-a");
  CHECK(core::default_state_dir("edge-a", env({{"HOME", "/home/u"}, {"XDG_STATE_HOME", "/x/state"}})) ==
        "/x/state/warren/edge-a");
  CHECK(core::default_state_dir("edge-a", env({{"HOME", "/home/u"}, {"XDG_STATE_HOME", "/x/state"},
                                               {"STATE_DIRECTORY", "/var/lib/warren:/var/lib/other"}})) ==
        "/var/lib/warren/edge-a");
}

TEST_CASE("relative or empty state variables are skipped, and no variable means no default") {
  CHECK(core::default_state_dir("e", env({{"HOME", "/home/u"}, {"XDG_STATE_HOME", "state"}})) ==
        "/home/u/.local/state/warren/e");
  CHECK(core::default_state_dir("e", env({{"HOME", "/home/u"}, {"STATE_DIRECTORY", ""}})) ==
        "/home/u/.local/state/warren/e");
  CHECK_FALSE(core::default_state_dir("e", env({})));
  CHECK_FALSE(core::default_state_dir("e", env({{"HOME", "relative"}})));
}

TEST_CASE("an edge id becomes one safe folder name") {
  CHECK(core::default_state_dir("../../etc", env({{"HOME", "/h"}})) == "/h/.local/state/warren/.._.._etc");
  CHECK(core::default_state_dir("..", env({{"HOME", "/h"}})) == "/h/.local/state/warren/edge");
  CHECK(core::default_state_dir("a b/c", env({{"HOME", "/h"}})) == "/h/.local/state/warren/a_b_c");
}

TEST_CASE("an edge config without state_dir keeps its state outside the config's folder") {
  sdk::Diagnostics d;
  auto root = core::read_toml_text("[edge]\nid = \"edge-a\"\n[[listen]]\nplugin = \"quic\"\naddress = "
                                   "\"127.0.0.1:7844\"\n[[tunnels]]\nid = \"web\"\ntoken = \"t\"\n",
                                   "/srv/checkout/examples/edge.toml", d);
  REQUIRE(root);
  auto config = core::read_edge_config(*root, "/srv/checkout/examples/edge.toml", d);
  INFO((d.ok() ? std::string() : d.list().front().to_string()));
  REQUIRE(d.ok());
  CHECK(config.edge.state_dir == core::default_state_dir("edge-a"));
  CHECK_FALSE(config.edge.state_dir.string().starts_with("/srv/checkout"));
}

TEST_CASE("a relative state_dir is still taken from the config's folder") {
  sdk::Diagnostics d;
  auto root = core::read_toml_text("[edge]\nstate_dir = \"state\"\n[[listen]]\nplugin = \"quic\"\naddress = "
                                   "\"127.0.0.1:7844\"\n[[tunnels]]\nid = \"web\"\ntoken = \"t\"\n",
                                   "/srv/edge.toml", d);
  REQUIRE(root);
  auto config = core::read_edge_config(*root, "/srv/edge.toml", d);
  REQUIRE(d.ok());
  CHECK(config.edge.state_dir == "/srv/state");
}

// The sections the reference lists are the schemas that read the configs:
// every key has a type and a doc line, and every default it shows reads back.

#include "core/config/config_schemas.hpp"

#include "core/config/connector_config.hpp"
#include "core/config/edge_config.hpp"
#include "core/config/toml_tree.hpp"

#include <catch2/catch.hpp>

using namespace warren;
using namespace std::chrono_literals;

namespace {

const core::SectionReference& find_section(const std::vector<core::SectionReference>& all, core::ConfigFileKind file,
                                           const std::string& path) {
  for (const auto& s : all)
    if (s.file == file && s.toml_path == path) return s;
  FAIL("no section " << path);
  throw;
}

/// `key = default` for every key of `section` that has a default.
std::string defaults_of(const core::SectionReference& section) {
  std::string text;
  for (const auto& k : section.keys)
    if (!k.default_text.empty()) text += k.name + " = " + k.default_text + "\n";
  return text;
}

std::vector<std::string> errors_of(const sdk::Diagnostics& d) {
  std::vector<std::string> out;
  for (const auto& x : d.list()) out.push_back(x.to_string());
  return out;
}

}  // namespace

TEST_CASE("every core section has a summary and every key a type and a doc line") {
  auto sections = core::config_sections();
  CHECK(sections.size() == 11);
  for (const auto& s : sections) {
    INFO(s.toml_path);
    CHECK_FALSE(s.summary.empty());
    CHECK_FALSE(s.keys.empty());
    for (const auto& k : s.keys) {
      INFO(k.name);
      CHECK_FALSE(k.type.empty());
      CHECK_FALSE(k.doc.empty());
      if (!s.plugin_kind.empty() && k.name == "plugin") CHECK(k.required);
    }
  }
}

TEST_CASE("the defaults the reference shows for [tunnel] read back as the connector's defaults") {
  auto all = core::config_sections();
  auto text = "[tunnel]\n" + defaults_of(find_section(all, core::ConfigFileKind::connector, "[tunnel]")) +
              "id = \"web\"\ntoken = \"t\"\nedge_ca = \"/\"\n[[transport]]\nplugin = \"quic\"\n"
              "[discovery]\nplugin = \"static\"\n[backend]\nplugin = \"tcp\"\n";
  sdk::Diagnostics d;
  auto root = core::read_toml_text(text, "/t/tunnel.toml", d);
  REQUIRE(root);
  auto config = core::read_connector_config(*root, "/t/tunnel.toml", d);
  INFO(text);
  CHECK(errors_of(d).empty());
  core::TunnelSettings fresh;
  CHECK(config.tunnel.ha_connections == fresh.ha_connections);
  CHECK(config.tunnel.grace_period == fresh.grace_period);
  CHECK(config.tunnel.stagger == fresh.stagger);
  CHECK(config.tunnel.insecure == fresh.insecure);
  CHECK(config.tunnel.public_port == fresh.public_port);
}

TEST_CASE("the defaults the reference shows for [edge] read back as the edge's defaults") {
  auto all = core::config_sections();
  // Every [[tunnels]] default but kind's: the flow keys are a udp tunnel's (an error on a tcp one).
  auto tunnel = defaults_of(find_section(all, core::ConfigFileKind::edge, "[[tunnels]]"));
  auto kind = tunnel.find("kind = \"tcp\"");
  REQUIRE(kind != std::string::npos);
  tunnel.replace(kind, 12, "kind = \"udp\"");
  auto text = "[edge]\n" + defaults_of(find_section(all, core::ConfigFileKind::edge, "[edge]")) +
              "state_dir = \"s\"\n[[listen]]\nplugin = \"quic\"\naddress = \"127.0.0.1:0\"\n[[tunnels]]\n" + tunnel +
              "id = \"w\"\ntoken = \"t\"\n";
  sdk::Diagnostics d;
  auto root = core::read_toml_text(text, "/srv/edge.toml", d);
  REQUIRE(root);
  auto config = core::read_edge_config(*root, "/srv/edge.toml", d);
  INFO(text);
  CHECK(errors_of(d).empty());
  core::EdgeSettings fresh;
  CHECK(config.edge.id == fresh.id);
  CHECK(config.edge.public_ports.first == fresh.public_ports.first);
  CHECK(config.edge.public_ports.last == fresh.public_ports.last);
  CHECK(config.edge.max_streams_total == fresh.max_streams_total);
  CHECK(config.edge.public_idle_timeout == fresh.public_idle_timeout);
  CHECK(config.edge.heartbeat_interval == fresh.heartbeat_interval);
  REQUIRE(config.tunnels.size() == 1);
  CHECK_FALSE(config.tunnels[0].public_port);
  core::udp::FlowSettings flows;
  CHECK(config.tunnels[0].flows.idle_timeout == flows.idle_timeout);
  CHECK(config.tunnels[0].flows.max_lifetime == flows.max_lifetime);
  CHECK(config.tunnels[0].flows.max_flows == flows.max_flows);
  CHECK(config.tunnels[0].flows.max_flows_per_source == flows.max_flows_per_source);
}

TEST_CASE("a section's plugin key is core's: checked with the section's words, kept from the plugin") {
  const std::string rest =
      "[tunnel]\ninsecure = true\n[[transport]]\nplugin = \"quic\"\n[discovery]\nplugin = \"static\"\n";
  auto read = [&](const std::string& backend) {
    sdk::Diagnostics d;
    auto root = core::read_toml_text(rest + backend, "/t/tunnel.toml", d);
    REQUIRE(root);
    auto config = core::read_connector_config(*root, "/t/tunnel.toml", d);
    return std::pair{config, errors_of(d)};
  };
  CHECK(read("[backend]\nplugin = 3\n").second ==
        std::vector<std::string>{"/t/tunnel.toml:8:10: 'plugin' must be a plugin name (a non-empty string)"});
  CHECK(read("[backend]\nplugin = \"\"\n").second ==
        std::vector<std::string>{"/t/tunnel.toml:8:10: 'plugin' must be a plugin name (a non-empty string)"});
  auto [config, errors] = read("[backend]\nplugin = \"tcp\"\npluginn = 1\n");
  CHECK(errors.empty());  // an unknown key in a plugin's table is the plugin's to report
  REQUIRE(config.backend.table.entries.size() == 1);
  CHECK(config.backend.table.entries[0].key == "pluginn");
}

TEST_CASE("a [[listen]] keeps its address from the transport and reports it at its place") {
  sdk::Diagnostics d;
  auto root = core::read_toml_text(
      "[edge]\nquick_tunnels = true\n[[listen]]\nplugin = \"quic\"\naddress = \"127.0.0.1:0\"\nretry = \"auto\"\n"
      "[[listen]]\nplugin = \"quic\"\n",
      "/srv/edge.toml", d);
  REQUIRE(root);
  auto config = core::read_edge_config(*root, "/srv/edge.toml", d);
  CHECK(errors_of(d) == std::vector<std::string>{"/srv/edge.toml:7:1: missing required key 'address' in [listen] "
                                                 "(where this transport listens, host:port (port 0: any))"});
  REQUIRE(config.listen.size() == 1);
  REQUIRE(config.listen[0].transport.table.entries.size() == 1);
  CHECK(config.listen[0].transport.table.entries[0].key == "retry");
}

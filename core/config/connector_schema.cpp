#include "core/config/connector_schema.hpp"

#include "core/protocol/message_rules.hpp"

namespace warren::core {

sdk::ConfigSchema<RootKeys> root_schema(const std::vector<std::string>& sections) {
  auto schema = sdk::ConfigSchema<RootKeys>("keys before the first section")
                    .string_list("plugin_dirs", &RootKeys::plugin_dirs,
                                 "folders searched for plugins before WARREN_PLUGIN_PATH and the bundled ones; "
                                 "relative to the config file");
  for (const auto& s : sections) schema.allow(s);
  return schema;
}

const sdk::ConfigSchema<RootKeys>& connector_root_schema() {
  static const auto schema = root_schema({"tunnel", "transport", "discovery", "backend", "policy", "admin"});
  return schema;
}

const sdk::ConfigSchema<TunnelKeys>& tunnel_schema() {
  using namespace std::chrono_literals;
  using K = TunnelKeys;
  static const auto schema =
      sdk::ConfigSchema<K>("the tunnel: its credentials, how to trust the edge, and its legs")
          .string("id", &K::id, "tunnel id registered at the edge; omit with token for a quick tunnel")
          .string("token", &K::token, "the tunnel's secret")
          .string("token_file", &K::token_file,
                  "a file holding the secret, instead of token (trimmed; relative to the config file; must not be "
                  "readable by group or others: chmod 600)")
          .integer("ha_connections", &K::ha_connections,
                   "parallel connections (legs) to the edges; each carries a share of the public connections",
                   {.min = 1, .max = protocol::kMaxLegs})
          .string_or_list("edge_fingerprint", &K::edge_fingerprint,
                          "sha256 pin of the edge's certificate (printed by the edge): \"sha256:\" + 64 hex digits; "
                          "a list accepts any of them (add the new pin, replace the edge's certificate, drop the old)")
          .string("edge_ca", &K::edge_ca, "PEM file of CAs to verify the edge with, instead of a pin")
          .boolean("insecure", &K::insecure, "accept any edge certificate (testing only; warns at every start)")
          .duration("grace_period", &K::grace_period, "how long open streams may drain on shutdown",
                    {.min = 0s, .max = 1h})
          .duration("stagger", &K::stagger, "delay between starting legs after the first", {.min = 0s, .max = 60s})
          .integer("public_port", &K::public_port, "public port to ask the edge for; 0 lets the edge choose",
                   {.min = 0, .max = 65535})
          .string("connector_id", &K::connector_id,
                  "this process's id among the tunnel's replicas (letters, digits, '.', '_', '-'; at most 64); "
                  "empty: random per run")
          .check([](const K& k, const sdk::CheckContext& at) {
            if (auto why = protocol::connector_id_problem(k.connector_id)) at.error("connector_id", "'connector_id' " + *why);
          });
  return schema;
}

const sdk::ConfigSchema<PluginChoiceKeys>& transport_section_schema() {
  static const auto schema = plugin_choice_schema(
      "how the connector dials edges; one table per transport, in order of preference (later ones are "
      "fallbacks)",
      "transport");
  return schema;
}

const sdk::ConfigSchema<PluginChoiceKeys>& discovery_section_schema() {
  static const auto schema = plugin_choice_schema("how the connector finds its edges", "discovery");
  return schema;
}

const sdk::ConfigSchema<PluginChoiceKeys>& backend_section_schema() {
  static const auto schema = plugin_choice_schema("where the connector delivers each public connection", "backend");
  return schema;
}

const sdk::ConfigSchema<PluginChoiceKeys>& policy_section_schema() {
  static const auto schema = plugin_choice_schema(
      "retry and address policies; optional: with none, the bundled backoff plugin runs with its defaults", "policy");
  return schema;
}

const sdk::ConfigSchema<AdminKeys>& connector_admin_schema() {
  static const auto schema =
      sdk::ConfigSchema<AdminKeys>("operators' HTTP endpoints: /metrics (Prometheus), /ready, /status (JSON); "
                                   "optional")
          .string("address", &AdminKeys::address,
                  "host:port to serve them on, e.g. \"127.0.0.1:9101\" (port 0: any free port, logged at "
                  "start); unset: off");
  return schema;
}

}  // namespace warren::core

#pragma once
// The connector config's (tunnel.toml) raw keys, declared once per section:
// type, default, range and doc line. read_connector_config() reads through
// these and adds the checks that span keys; docs/config.md lists them.

#include "core/config/plugin_section.hpp"

#include <warren/sdk/config_schema.hpp>
#include <warren/sdk/time.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace warren::core {

/// Keys at the top of a config file (connector and edge alike).
struct RootKeys {
  std::vector<std::string> plugin_dirs;
};

/// [tunnel] as written; TunnelSettings is what it means.
struct TunnelKeys {
  std::optional<std::string> id;
  std::optional<std::string> token;
  std::optional<std::string> token_file;
  std::uint32_t ha_connections = 2;
  std::vector<std::string> edge_fingerprint;  ///< one pin, or several while the edge's certificate changes
  std::optional<std::string> edge_ca;
  bool insecure = false;
  sdk::Duration grace_period = std::chrono::seconds(30);
  sdk::Duration stagger = std::chrono::seconds(1);
  std::uint16_t public_port = 0;
  std::string connector_id;
};

/// [admin] as written: where the connector serves /metrics, /ready and /status.
struct AdminKeys {
  std::optional<std::string> address;
};

/// The top level of a file; `sections` are the tables it may hold.
sdk::ConfigSchema<RootKeys> root_schema(const std::vector<std::string>& sections);
const sdk::ConfigSchema<RootKeys>& connector_root_schema();
const sdk::ConfigSchema<TunnelKeys>& tunnel_schema();
const sdk::ConfigSchema<PluginChoiceKeys>& transport_section_schema();
const sdk::ConfigSchema<PluginChoiceKeys>& discovery_section_schema();
const sdk::ConfigSchema<PluginChoiceKeys>& backend_section_schema();
const sdk::ConfigSchema<PluginChoiceKeys>& policy_section_schema();
const sdk::ConfigSchema<AdminKeys>& connector_admin_schema();

}  // namespace warren::core

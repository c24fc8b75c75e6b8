#pragma once
// The connector's config file (tunnel.toml) as the connector uses it: read
// through the schemas of connector_schema.hpp (keys, types, defaults, ranges,
// docs), then checked across keys and converted (paths, secrets, the pin).
// Plugin tables are only split out here; the plugins validate them.

#include "core/config/connector_schema.hpp"
#include "core/config/plugin_section.hpp"

#include <warren/sdk/certificate_pin.hpp>
#include <warren/sdk/endpoint.hpp>
#include <warren/sdk/time.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace warren::core {

/// Defaults come from TunnelKeys, the one place they are declared.
struct TunnelSettings {
  std::optional<std::string> id;     ///< absent for a quick tunnel
  std::optional<std::string> token;  ///< from `token` or read from `token_file`
  std::uint32_t ha_connections = TunnelKeys{}.ha_connections;
  std::vector<sdk::CertificatePin> edge_pins;  ///< any of them is accepted; empty: edge_ca or insecure
  std::optional<std::filesystem::path> edge_ca;
  bool insecure = TunnelKeys{}.insecure;
  sdk::Duration grace_period = TunnelKeys{}.grace_period;
  sdk::Duration stagger = TunnelKeys{}.stagger;
  std::optional<std::uint16_t> public_port;  ///< a port to ask the edge for
  std::string connector_id;                  ///< this process among the tunnel's replicas; empty: random per run
  bool quick() const { return !id.has_value(); }
};

struct ConnectorConfig {
  std::filesystem::path file;
  std::vector<std::filesystem::path> plugin_dirs;
  TunnelSettings tunnel;
  std::vector<PluginSection> transports;  ///< in order of preference
  PluginSection discovery;
  PluginSection backend;
  std::vector<PluginSection> policies;
  std::optional<sdk::Endpoint> admin;  ///< [admin] address; unset: no admin endpoints
};

/// Reads a parsed connector config; relative paths are taken from the
/// config file's folder. Problems go to `diagnostics`; what could be read is
/// still returned, so plugin tables get checked in the same run.
ConnectorConfig read_connector_config(const sdk::ConfigTable& root, const std::filesystem::path& file,
                                      sdk::Diagnostics& diagnostics);

/// Resolves `path` against the folder of `config_file` unless it is absolute.
std::filesystem::path relative_to_config(const std::filesystem::path& config_file, const std::string& path);

/// `value`, or nullopt when it is "" (a string key written empty means unset).
std::optional<std::string> unless_empty(std::optional<std::string> value);

/// Adds a diagnostic at `key` if `value` is longer than `limit` bytes.
void check_length(const sdk::ConfigTable& table, const std::string& key, const std::optional<std::string>& value,
                  std::size_t limit, sdk::Diagnostics& diagnostics);

/// Reads a secret from a file, trimming surrounding whitespace; nullopt and a
/// diagnostic at `where` when it cannot, or when the file is open to group or
/// others (the message says which chmod to run, as ssh does for keys).
std::optional<std::string> read_secret_file(const std::filesystem::path& file, const sdk::SourceLocation& where,
                                            sdk::Diagnostics& diagnostics);

}  // namespace warren::core

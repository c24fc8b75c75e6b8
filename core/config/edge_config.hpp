#pragma once
// The edge's config file (edge.toml): schema, defaults and checks.

#include "core/config/plugin_section.hpp"

#include <warren/sdk/endpoint.hpp>
#include <warren/sdk/time.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace warren::core {

struct PortRange {
  std::uint16_t first = 20000;
  std::uint16_t last = 20999;
};

struct EdgeSettings {
  std::string id = "edge";
  std::optional<std::filesystem::path> cert;  ///< with key; else a self-signed pair in state_dir
  std::optional<std::filesystem::path> key;
  std::filesystem::path state_dir;
  std::string public_host = "127.0.0.1";
  PortRange public_ports;
  bool quick_tunnels = false;
  std::optional<sdk::Endpoint> admin;
  std::uint32_t max_tunnels = 1000;
  std::uint32_t max_streams_per_tunnel = 1000;
  /// Public clients' share (see core/edge/public_admission.hpp). A source is
  /// an IPv4 address or an IPv6 /64.
  std::uint32_t max_connections_per_source = 256;
  std::uint32_t max_connection_rate_per_source = 100;  ///< new connections per second
  std::uint32_t connection_burst_per_source = 200;
  std::uint32_t max_streams_total = 10000;
  std::uint32_t max_stream_buffer_mib = 512;  ///< growth budget of all splice buffers together
  sdk::Duration public_idle_timeout = std::chrono::minutes(5);  ///< zero: none
  sdk::Duration handshake_timeout = std::chrono::seconds(5);
  sdk::Duration heartbeat_interval = std::chrono::milliseconds(500);
};

struct ListenSection {
  PluginSection transport;
  sdk::Endpoint address;
};

struct TunnelEntry {
  std::string id;
  std::string token;
  std::optional<std::uint16_t> public_port;
  sdk::SourceLocation where;
  std::uint32_t max_replicas = 4;  ///< connector processes that may serve it at once
};

struct EdgeConfig {
  std::filesystem::path file;
  std::vector<std::filesystem::path> plugin_dirs;
  EdgeSettings edge;
  std::vector<ListenSection> listen;
  std::vector<TunnelEntry> tunnels;
};

/// Reads a parsed edge config; problems go to `diagnostics`, and what could
/// be read is still returned so plugin tables get checked in the same run.
EdgeConfig read_edge_config(const sdk::ConfigTable& root, const std::filesystem::path& file,
                            sdk::Diagnostics& diagnostics);

/// "20000-20999" or a single "20000".
std::optional<PortRange> parse_port_range(std::string_view text);

}  // namespace warren::core

#pragma once
// The edge's config file (edge.toml) as the edge uses it: read through the
// schemas of edge_schema.hpp (keys, types, defaults, ranges, docs), then
// checked across keys and converted (paths, port range, admin address).

#include "core/config/edge_schema.hpp"
#include "core/config/plugin_section.hpp"

#include <warren/sdk/endpoint.hpp>
#include <warren/sdk/time.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace warren::core {

/// Its default is EdgeKeys::public_ports'; config_test checks they agree.
struct PortRange {
  std::uint16_t first = 20000;
  std::uint16_t last = 20999;
};

/// Defaults come from EdgeKeys, the one place they are declared.
struct EdgeSettings {
  std::string id = EdgeKeys{}.id;
  std::optional<std::filesystem::path> cert;  ///< with key; else a self-signed pair in state_dir
  std::optional<std::filesystem::path> key;
  std::filesystem::path state_dir;
  std::string public_host = EdgeKeys{}.public_host;
  PortRange public_ports;
  bool quick_tunnels = EdgeKeys{}.quick_tunnels;
  std::optional<sdk::Endpoint> admin;
  std::uint32_t max_tunnels = EdgeKeys{}.max_tunnels;
  std::uint32_t max_streams_per_tunnel = EdgeKeys{}.max_streams_per_tunnel;
  /// Public clients' share (see core/edge/public_admission.hpp). A source is
  /// an IPv4 address or an IPv6 /64.
  std::uint32_t max_connections_per_source = EdgeKeys{}.max_connections_per_source;
  std::uint32_t max_connection_rate_per_source = EdgeKeys{}.max_connection_rate_per_source;  ///< per second
  std::uint32_t connection_burst_per_source = EdgeKeys{}.connection_burst_per_source;
  std::uint32_t max_streams_total = EdgeKeys{}.max_streams_total;
  std::uint32_t max_stream_buffer_mib = EdgeKeys{}.max_stream_buffer_mib;  ///< all splice buffers together
  sdk::Duration public_idle_timeout = EdgeKeys{}.public_idle_timeout;      ///< zero: none
  sdk::Duration handshake_timeout = EdgeKeys{}.handshake_timeout;
  sdk::Duration heartbeat_interval = EdgeKeys{}.heartbeat_interval;
  /// Registration attempts' share (see core/edge/registration_admission.hpp).
  std::uint32_t registration_rate_per_source = EdgeKeys{}.registration_rate_per_source;  ///< per second
  std::uint32_t registration_burst_per_source = EdgeKeys{}.registration_burst_per_source;
  std::uint32_t registration_rate_per_tunnel = EdgeKeys{}.registration_rate_per_tunnel;  ///< per second
  std::uint32_t registration_burst_per_tunnel = EdgeKeys{}.registration_burst_per_tunnel;
  std::uint32_t auth_failures_per_source = EdgeKeys{}.auth_failures_per_source;
  sdk::Duration auth_failure_interval = EdgeKeys{}.auth_failure_interval;
  std::uint32_t auth_failures_per_tunnel = EdgeKeys{}.auth_failures_per_tunnel;
  /// Drain of what a reload removes (a tunnel, a [[listen]]); see core/edge/edge_reload_plan.hpp.
  sdk::Duration grace_period = EdgeKeys{}.grace_period;
};

struct ListenSection {
  PluginSection transport;
  sdk::Endpoint address;
};

struct TunnelEntry {
  std::string id;
  std::vector<std::string> tokens;  ///< every secret that registers it: `token`, `token_file` or `tokens`
  std::optional<std::uint16_t> public_port;
  sdk::SourceLocation where;
  std::uint32_t max_replicas = TunnelEntryKeys{}.max_replicas;  ///< connector processes that may serve it at once
  TunnelKind kind = TunnelKind::tcp;
  /// kind = udp: the edge's flow table for its public UDP port (open_step false).
  udp::FlowSettings flows;
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

/// True when two plugin tables hold the same keys and values in the same
/// order (where they are written does not count): a [[listen]] whose table
/// changed is another listener.
bool same_values(const sdk::ConfigTable& a, const sdk::ConfigTable& b);

/// "20000-20999" or a single "20000".
std::optional<PortRange> parse_port_range(std::string_view text);

}  // namespace warren::core

#pragma once
// The edge config's (edge.toml) raw keys, declared once per section: type,
// default, range and doc line. read_edge_config() reads through these and
// adds the checks that span keys; docs/config.md lists them.

#include "core/config/connector_schema.hpp"
#include "core/config/plugin_section.hpp"
#include "core/udp/flow_settings.hpp"

#include <warren/sdk/config_schema.hpp>
#include <warren/sdk/endpoint.hpp>
#include <warren/sdk/time.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace warren::core {

/// [edge] as written; EdgeSettings is what it means.
struct EdgeKeys {
  std::string id = "edge";
  std::optional<std::string> cert;
  std::optional<std::string> key;
  std::optional<std::string> state_dir;
  std::string public_host = "127.0.0.1";
  std::string public_ports = "20000-20999";
  bool quick_tunnels = false;
  std::optional<std::string> admin;
  std::uint32_t max_tunnels = 1000;
  std::uint32_t max_streams_per_tunnel = 1000;
  std::uint32_t max_connections_per_source = 256;
  std::uint32_t max_connection_rate_per_source = 100;
  std::uint32_t connection_burst_per_source = 200;
  std::uint32_t max_streams_total = 10000;
  std::uint32_t max_stream_buffer_mib = 512;
  sdk::Duration public_idle_timeout = std::chrono::minutes(5);
  sdk::Duration handshake_timeout = std::chrono::seconds(5);
  sdk::Duration heartbeat_interval = std::chrono::milliseconds(500);
  std::uint32_t registration_rate_per_source = 20;
  std::uint32_t registration_burst_per_source = 64;
  std::uint32_t registration_rate_per_tunnel = 20;
  std::uint32_t registration_burst_per_tunnel = 256;
  std::uint32_t auth_failures_per_source = 10;
  sdk::Duration auth_failure_interval = std::chrono::seconds(6);
  std::uint32_t auth_failures_per_tunnel = 100;
  sdk::Duration grace_period = std::chrono::seconds(30);
};

/// Core's keys of one [[listen]]; the rest of the table is the transport's.
struct ListenKeys {
  std::optional<std::string> plugin;
  sdk::Endpoint address;
};

/// What a tunnel carries: TCP connections on a public TCP port, or UDP
/// datagrams on a public UDP port (issue 13).
enum class TunnelKind { tcp, udp };

/// One [[tunnels]] entry as written.
struct TunnelEntryKeys {
  std::string id;
  std::optional<std::string> token;
  std::optional<std::string> token_file;
  std::vector<std::string> tokens;  ///< several accepted secrets, while one is rotated
  std::uint16_t public_port = 0;
  std::uint32_t max_replicas = 4;
  TunnelKind kind = TunnelKind::tcp;
  // A udp tunnel's flows (core/udp/flow_settings.hpp); an error on a tcp tunnel.
  sdk::Duration flow_idle_timeout = udp::FlowSettings{}.idle_timeout;
  sdk::Duration flow_lifetime = udp::FlowSettings{}.max_lifetime;
  std::uint64_t flow_requests = udp::FlowSettings{}.max_requests;
  std::uint64_t flow_responses = udp::FlowSettings{}.max_responses;
  std::uint32_t max_flows = static_cast<std::uint32_t>(udp::FlowSettings{}.max_flows);
  std::uint32_t max_flows_per_source = static_cast<std::uint32_t>(udp::FlowSettings{}.max_flows_per_source);
};

/// The [[tunnels]] keys that only a kind = "udp" tunnel takes.
inline constexpr const char* udp_only_tunnel_keys[] = {"flow_idle_timeout", "flow_lifetime", "flow_requests",
                                                        "flow_responses",    "max_flows",     "max_flows_per_source"};

const sdk::ConfigSchema<RootKeys>& edge_root_schema();
const sdk::ConfigSchema<EdgeKeys>& edge_schema();
const sdk::ConfigSchema<ListenKeys>& listen_schema();
const sdk::ConfigSchema<TunnelEntryKeys>& tunnel_entry_schema();

}  // namespace warren::core

#pragma once
// The edge's admin endpoints (`admin = "127.0.0.1:9100"`): /metrics
// (Prometheus text: the edge's counters, per tunnel and per listener, and
// what the transports report), /ready (200 while the edge listens, else
// 503), /healthz, and /status (JSON: the run's identity, its listeners,
// every tunnel with its public address and legs). The server gathers an
// EdgeStatus snapshot (EdgeServer::status, edge_admin.cpp); rendering it is
// pure, so tests check exact text.

#include <warren/sdk/time.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace warren::core {

struct ByteCounter;

/// One connector connection as the edge sees it.
struct EdgeLegStatus {
  std::string connector_id;  ///< the replica it belongs to; "" when it sent none
  unsigned index = 0;        ///< its connection index at the connector (the connector's "leg N")
  std::string transport;     ///< the [[listen]] plugin it came through
  std::string remote;        ///< the connector's address as the transport sees it
  std::string state;         ///< "registered" or "draining"
  std::optional<sdk::Duration> rtt;  ///< the transport's smoothed RTT, when it measures one
  std::optional<std::chrono::system_clock::time_point> since;  ///< when it registered
  /// Public connections it carries; a udp tunnel's leg does not count its
  /// udp stream (it carries flow frames, no public connection).
  std::uint64_t streams_open = 0;
  std::optional<std::uint64_t> flows_open;  ///< udp tunnels: flows placed on it and live
};

struct EdgeTunnelStatus {
  std::string id;
  std::string public_address;  ///< "host:port"; "" while no listener is open
  bool quick = false;
  std::size_t replicas = 0;       ///< connector processes heard from lately
  std::uint64_t streams_open = 0;
  /// So far, running streams included; a udp tunnel's are its datagrams'
  /// payload bytes: those a leg took toward the connector
  /// (warren_udp_to_connector_bytes_total), and those sent to public
  /// clients (warren_udp_bytes_total, out).
  std::uint64_t bytes_to_connector = 0;
  std::uint64_t bytes_from_connector = 0;
  std::vector<EdgeLegStatus> legs;  ///< by connector id, then index
  std::string kind = "tcp";        ///< "tcp" or "udp"
  std::uint64_t flows_active = 0;  ///< udp: flows live now
  std::uint64_t flows_total = 0;   ///< udp: flows opened so far
  std::uint64_t flow_legs = 0;     ///< udp: legs whose datagram channel is up and that take new flows
};

struct EdgeListenerStatus {
  std::string transport;  ///< plugin name
  std::string address;    ///< "host:port" bound
  std::size_t legs = 0;   ///< registered legs that came through it
};

struct EdgeStatus {
  std::string edge_id;
  std::string config_file;
  std::chrono::system_clock::time_point started{};
  bool ready = false;
  std::vector<EdgeListenerStatus> listeners;
  std::vector<EdgeTunnelStatus> tunnels;
};

/// The /status document (one line of JSON and a newline); `now` gives the uptime.
std::string render_edge_status(const EdgeStatus& status, std::chrono::system_clock::time_point now);

/// Prometheus text per tunnel (legs, open streams, replicas) and per listener
/// (legs); `tunnel_bytes` adds warren_tunnel_bytes_total for every tunnel
/// ever counted, gone ones included, so the counters never go back.
std::string render_edge_tunnel_metrics(const EdgeStatus& status,
                                       const std::map<std::string, std::shared_ptr<ByteCounter>>& tunnel_bytes);

}  // namespace warren::core

#pragma once
// What a reload (SIGHUP) of a running edge changes, decided without I/O:
// diff_edge_config() compares the running config with the file just read
// and validated, and says per part what to do. EdgeServer::apply() carries
// the plan out and logs one line per change (EdgeReloadPlan::lines()).
//
// What applies at once, and what waits for a restart:
// - [[tunnels]] added: registrable at once; a public_port is bound now.
// - [[tunnels]] removed: no new registration or public client; its legs get
//   no new streams and close once their streams end or [edge] grace_period
//   passes; its public listener closes (open public connections finish).
// - [[tunnels]] changed: token/tokens/token_file check new registrations
//   (registered legs stay); max_replicas counts from the next registration;
//   public_port moves at once when the tunnel holds no public port yet, else
//   needs a restart (its connectors were told the old address). A udp
//   tunnel's flow keys apply at once (FlowTable::update_settings), to its
//   live flows too: flow_lifetime, flow_requests, flow_responses, and
//   flow_idle_timeout when lowered; max_flows and max_flows_per_source gate
//   the flows that begin from then on (no live flow ends for them). flow_idle_timeout raised needs a restart: connectors learn
//   it when they register and end their half of a flow 5 s after it, so a
//   longer one here would see its flows ended by the connector. kind needs
//   a restart: its connectors registered for that kind and its public port
//   is of that kind. What needs a restart keeps its running value, is
//   logged as a warning with the old and new values, and each reload names
//   it again until the edge restarts.
// - [[listen]] added: a listener starts. Removed: it stops accepting; the
//   connectors' legs on it drain as a removed tunnel's do, so they
//   reconnect through a listener that remains. A [[listen]] whose plugin
//   table changed is a removal plus an addition.
// - [edge] cert and key: re-read on every reload, as before.
// - [edge] limits the registry holds (public_ports, quick_tunnels,
//   max_tunnels, max_streams_per_tunnel, heartbeat_interval) and
//   handshake_timeout, public_idle_timeout, grace_period: applied, for what
//   starts from now on. id, state_dir, public_host, admin,
//   max_stream_buffer_mib, the per-source and per-tunnel admission limits:
//   need a restart (logged; the rest still applies).

#include "core/config/edge_config.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace warren::core {

struct TunnelChange {
  TunnelEntry entry;  ///< as the new file has it
  bool tokens = false;
  bool max_replicas = false;
  bool public_port = false;
  std::optional<std::uint16_t> old_public_port;
  std::uint32_t old_max_replicas = 0;
  bool kind = false;
  TunnelKind old_kind = TunnelKind::tcp;
  /// The flow keys that apply now, as "key OLD -> NEW: how it applies" (to
  /// live flows too, or to new flows: the caps); empty when none do.
  std::vector<std::string> flows;
  /// The flow keys that need a restart (flow_idle_timeout raised), as "key OLD -> NEW".
  std::vector<std::string> flows_restart;
  udp::FlowSettings old_flows;
  /// What the tunnel runs with after the reload: the new values of the keys
  /// that apply, the running ones of the rest (all of them when kind changed).
  udp::FlowSettings live_flows;
};

struct EdgeReloadPlan {
  std::vector<TunnelEntry> tunnels_added;
  std::vector<std::string> tunnels_removed;
  std::vector<TunnelChange> tunnels_changed;
  std::vector<std::size_t> listeners_added;    ///< indexes into the new config's listen
  std::vector<std::size_t> listeners_removed;  ///< indexes into the running config's listen
  /// [edge] keys whose new value applies now, as "key: OLD -> NEW".
  std::vector<std::string> settings_applied;
  /// [edge] keys (and other parts) that keep their running value until a restart, as "key: OLD -> NEW".
  std::vector<std::string> needs_restart;

  /// True when nothing but the certificate (always re-read) is to be done.
  bool empty() const;
  /// One log line per change applied, in the order apply() carries them out (logged at info).
  std::vector<std::string> lines() const;
  /// One log line per change left for a restart, naming the key with its
  /// old and new values (logged as warnings, counted "left for a restart").
  std::vector<std::string> restart_lines() const;
};

/// Compares the running config with the one just read (both valid).
EdgeReloadPlan diff_edge_config(const EdgeConfig& running, const EdgeConfig& fresh);

/// "quic 127.0.0.1:7844": a [[listen]] in a sentence.
std::string listen_name(const ListenSection& listen);

}  // namespace warren::core

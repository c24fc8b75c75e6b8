#include "core/config/edge_schema.hpp"

namespace warren::core {

const sdk::ConfigSchema<RootKeys>& edge_root_schema() {
  static const auto schema = root_schema({"edge", "listen", "tunnels"});
  return schema;
}

const sdk::ConfigSchema<EdgeKeys>& edge_schema() {
  using namespace std::chrono_literals;
  using K = EdgeKeys;
  constexpr sdk::Range<std::int64_t> count{.min = 1, .max = 1'000'000};
  static const auto schema =
      sdk::ConfigSchema<K>("this edge: its name, certificate, public listeners and limits")
          .string("id", &K::id, "this edge's name, reported to connectors as their location")
          .string("cert", &K::cert, "PEM certificate chain; with key. Absent: a self-signed pair in state_dir")
          .string("key", &K::key, "PEM private key for cert")
          .string("state_dir", &K::state_dir,
                  "where the edge keeps the key pair it makes without cert/key; unset: "
                  "$STATE_DIRECTORY/<id>, $XDG_STATE_HOME/warren/<id> or ~/.local/state/warren/<id>")
          .string("public_host", &K::public_host, "address public listeners bind to")
          .string("public_ports", &K::public_ports,
                  "range of ports assigned to tunnels without public_port, \"FIRST-LAST\" (TCP; UDP for a kind = \"udp\" "
                  "tunnel)")
          .boolean("quick_tunnels", &K::quick_tunnels, "let connectors register tunnels with no credentials")
          .string("admin", &K::admin, "host:port for the admin endpoints (/metrics, /ready, /status); unset: off")
          .integer("max_tunnels", &K::max_tunnels, "most tunnels served at once", count)
          .integer("max_streams_per_tunnel", &K::max_streams_per_tunnel, "most open streams per tunnel", count)
          .integer("max_connections_per_source", &K::max_connections_per_source,
                   "most public connections one source (IPv4 address, IPv6 /64) holds at once", count)
          .integer("max_connection_rate_per_source", &K::max_connection_rate_per_source,
                   "new public connections per second one source may open, sustained", count)
          .integer("connection_burst_per_source", &K::connection_burst_per_source,
                   "new public connections one source may open at once, above the rate", count)
          .integer("max_streams_total", &K::max_streams_total,
                   "most public connections forwarded at once, all tunnels together (each holds at most 128 KiB "
                   "of edge buffers plus its QUIC stream window)",
                   count)
          .integer("max_stream_buffer_mib", &K::max_stream_buffer_mib,
                   "MiB that public connections' copy buffers may grow into, all together; past it each stays at "
                   "its 2 KiB floor (slower copying, no more memory)",
                   count)
          .duration("public_idle_timeout", &K::public_idle_timeout,
                    "close a public connection that moved no byte either way for this long; \"0s\": never",
                    {.min = 0s, .max = 24h})
          .duration("handshake_timeout", &K::handshake_timeout, "time a connector has to register",
                    {.min = 10ms, .max = 5min})
          .duration("heartbeat_interval", &K::heartbeat_interval, "interval connectors heartbeat at",
                    {.min = 50ms, .max = 60s})
          .integer("registration_rate_per_source", &K::registration_rate_per_source,
                   "connector registrations per second one source (IPv4 address, IPv6 /64) may attempt, sustained; "
                   "past it: refused with rate_limited and a retry-after",
                   count)
          .integer("registration_burst_per_source", &K::registration_burst_per_source,
                   "connector registrations one source may attempt at once, above the rate (one leg each)", count)
          .integer("registration_rate_per_tunnel", &K::registration_rate_per_tunnel,
                   "registrations with the right credentials per second per tunnel, sustained (wrong ones never "
                   "count here)",
                   count)
          .integer("registration_burst_per_tunnel", &K::registration_burst_per_tunnel,
                   "registrations with the right credentials one tunnel may take at once, above the rate", count)
          .integer("auth_failures_per_source", &K::auth_failures_per_source,
                   "wrong tokens one source may present before it gets one try per auth_failure_interval", count)
          .duration("auth_failure_interval", &K::auth_failure_interval,
                    "after auth_failures_per_source: one more try per this, refused with rate_limited meanwhile",
                    {.min = 10ms, .max = 1h})
          .integer("auth_failures_per_tunnel", &K::auth_failures_per_tunnel,
                   "wrong tokens for one tunnel id (all sources) before sources that failed are held to one try "
                   "per second; sources with no failure are never slowed",
                   count)
          .duration("grace_period", &K::grace_period,
                    "how long the streams of a tunnel or [[listen]] removed by a reload (SIGHUP) may take to finish "
                    "before the edge closes their legs",
                    {.min = 0s, .max = 1h});
  return schema;
}

const sdk::ConfigSchema<ListenKeys>& listen_schema() {
  static const auto schema =
      sdk::ConfigSchema<ListenKeys>("where the edge accepts connectors: one table per transport (quic listens on UDP, http2 on TCP)")
          .string("plugin", &ListenKeys::plugin, "the transport plugin to use, by name (see Plugins)")
          .endpoint("address", &ListenKeys::address, "where this transport listens, host:port (port 0: any)",
                    /*allow_port_zero=*/true)
          .required();
  return schema;
}

const sdk::ConfigSchema<TunnelEntryKeys>& tunnel_entry_schema() {
  using namespace std::chrono_literals;
  using K = TunnelEntryKeys;
  static const auto schema =
      sdk::ConfigSchema<K>("a tunnel this edge serves, one table each; connectors register it by id and token")
          .string("id", &K::id, "the tunnel's id, as in the connector's [tunnel]")
          .required()
          .string("token", &K::token, "the tunnel's secret")
          .string("token_file", &K::token_file,
                  "a file holding the secret, instead of token (trimmed; relative to the config file; must not be "
                  "readable by group or others: chmod 600)")
          .string_list("tokens", &K::tokens,
                       "several secrets, any of which registers, instead of token or token_file: to rotate, list "
                       "the old and the new, move every connector to the new, then drop the old")
          .integer("public_port", &K::public_port, "public port; 0 assigns one from public_ports",
                   {.min = 0, .max = 65535})
          .integer("max_replicas", &K::max_replicas,
                   "connector processes (replicas) that may serve this tunnel at once; one more is refused and "
                   "retries",
                   {.min = 1, .max = 64})
          .choice("kind", &K::kind, {{"tcp", TunnelKind::tcp}, {"udp", TunnelKind::udp}},
                  "what the tunnel carries: \"tcp\" (a public TCP port, streams) or \"udp\" (a public UDP port, "
                  "datagrams in flows: one per client address and port)",
                  {{"datagram", "udp"}, {"dgram", "udp"}, {"stream", "tcp"}})
          .duration("flow_idle_timeout", &K::flow_idle_timeout,
                    "udp: a flow with no datagram either way for this long ends", {.min = 100ms, .max = 168h})
          .duration("flow_lifetime", &K::flow_lifetime,
                    "udp: a flow ends this long after its first datagram, busy or not; \"0s\": no limit",
                    {.min = 0s, .max = 168h})
          .integer("flow_requests", &K::flow_requests,
                   "udp: client datagrams a flow carries, then it waits for answers and a new datagram begins a new "
                   "flow; 0: no limit (DNS: 1)",
                   {.min = 0, .max = 1'000'000'000})
          .integer("flow_responses", &K::flow_responses,
                   "udp: answers a flow carries back, then it ends; 0: no limit (DNS: 1)",
                   {.min = 0, .max = 1'000'000'000})
          .integer("max_flows", &K::max_flows, "udp: most flows at once; a new client past it is dropped",
                   {.min = 1, .max = 1'000'000})
          .integer("max_flows_per_source", &K::max_flows_per_source,
                   "udp: most flows at once from one source (IPv4 address, IPv6 /64); 0: no cap",
                   {.min = 0, .max = 1'000'000})
          .check([](const K& k, const sdk::CheckContext& at) {
            // An error, not ignored: a tcp tunnel would silently not do what the key says.
            if (k.kind == TunnelKind::udp) return;
            for (const char* key : udp_only_tunnel_keys)
              if (at.has(key))
                at.error(key, std::string("'") + key + "' applies to kind = \"udp\" tunnels only; set kind = " +
                                  "\"udp\" in this [[tunnels]] table, or remove the key");
          });
  return schema;
}

}  // namespace warren::core

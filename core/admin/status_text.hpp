#pragma once
// What `warren status` prints: a /status document (an edge's or a
// connector's, as core/edge/edge_admin and core/connector/connector_admin
// write them) as a few lines and tables a person reads at a glance. Pure:
// the document and the time in, text out.

#include <boost/json/object.hpp>

#include <chrono>
#include <string>

namespace warren::core {

/// "edge" or "connector": the document's `role`, else guessed from its keys
/// ("tunnels" for an edge, "legs" for a connector); "" when neither.
std::string status_role(const boost::json::object& doc);

/// The connector's document: a heading (connector id, tunnel, config,
/// uptime, streams, bytes; for a udp tunnel its flows, datagrams and bytes,
/// and flows closed and datagrams dropped by reason), then one row per leg:
/// LEG STATE EDGE TRANSPORT RTT SINCE STREAMS LAST RECONNECT (a udp
/// tunnel's leg shows its flows in STREAMS). `now` turns times into ages.
std::string connector_status_text(const boost::json::object& doc, std::chrono::system_clock::time_point now);

/// The edge's document: a heading (edge id, config, uptime), its listeners,
/// one row per tunnel (public address, replicas, streams, bytes), then one
/// row per leg: TUNNEL CONNECTOR LEG STATE TRANSPORT REMOTE RTT SINCE STREAMS.
/// A udp tunnel's row and legs show flows in STREAMS, and its datagrams'
/// bytes in TO / FROM CONNECTOR.
std::string edge_status_text(const boost::json::object& doc, std::chrono::system_clock::time_point now);

/// Rows as columns padded to their widest cell, two spaces apart, no
/// trailing blanks; the first row is the header.
std::string text_table(const std::vector<std::vector<std::string>>& rows);

/// "999 B", "1.5 KiB", "20.0 MiB", "3.1 GiB".
std::string byte_text(std::uint64_t bytes);

}  // namespace warren::core

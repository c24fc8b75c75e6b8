#pragma once
// The edge's counters, rendered in the Prometheus text format. Single
// threaded like the rest of the edge: plain integers, no atomics.

#include "core/splice/stream_splice.hpp"

#include <warren/sdk/transport.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace warren::core {

struct EdgeMetrics {
  std::uint64_t tunnels = 0;          ///< gauge: tunnels with a public listener
  std::uint64_t legs = 0;             ///< gauge: registered connector connections
  std::uint64_t streams_active = 0;   ///< gauge
  std::uint64_t streams_total = 0;    ///< public connections forwarded
  std::uint64_t streams_refused = 0;  ///< public connections with no live leg or over the limit
  /// Bytes forwarded, counted as each write completes (a: the public client,
  /// b: the tunnel stream, so a_to_b goes to the connector): the total, fed
  /// by every tunnel's counter (tunnel_bytes).
  std::shared_ptr<ByteCounter> bytes = std::make_shared<ByteCounter>();
  /// Per tunnel id, kept after a tunnel goes so counters never go back.
  std::map<std::string, std::shared_ptr<ByteCounter>> tunnel_bytes;
  std::uint64_t registrations_total = 0;
  std::map<std::string, std::uint64_t> registrations_refused;  ///< by reason code
  std::uint64_t protocol_errors = 0;
  /// Registrations refused with rate_limited before their credentials were
  /// checked, by RegistrationThrottle name; every reason present from the start.
  std::map<std::string, std::uint64_t> registrations_throttled;
  std::uint64_t auth_failures = 0;  ///< registrations with wrong credentials (auth_failed, tunnel_unknown)
  /// Public connections refused, by reason (core/edge/public_admission.hpp
  /// names them); every reason is present from the start, at 0.
  std::map<std::string, std::uint64_t> public_refused;
  std::uint64_t public_idle_closed = 0;  ///< public connections closed by public_idle_timeout
  std::uint64_t streams_aborted_leg_gone = 0;  ///< streams reset because their leg ended
  /// Streams opened again on another leg because the one before died (or
  /// was refused) before the connector answered; the client bytes replayed.
  std::uint64_t streams_redispatched = 0;
  /// Public connections reset because no leg answered within the attempts.
  std::uint64_t streams_unanswered = 0;
  /// Data streams a connector refused (StreamReply), by reason code name.
  std::map<std::string, std::uint64_t> stream_refusals;

  EdgeMetrics();

  /// The counter a splice of `tunnel` bumps (made on first use; feeds `bytes`).
  std::shared_ptr<ByteCounter> bytes_for(const std::string& tunnel);

  /// The Prometheus exposition text (version 0.0.4).
  std::string render() const;
};

/// What the transport listeners report about themselves (sdk::Listener::stats),
/// as Prometheus text: `warren_<name>{listener="<port>",…}`, one HELP and
/// TYPE per name. Names that are not lower_snake_case are skipped.
std::string render_listener_stats(const std::vector<sdk::ListenerPtr>& listeners);

}  // namespace warren::core

#pragma once
// The connector supervisor's knobs, already parsed from the [tunnel] table
// and the command line. Defaults follow bore (heartbeat 500 ms / 8 s) and
// cloudflared (2 HA legs, 1 s stagger).

#include <warren/sdk/time.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace warren::core::supervisor {

using sdk::Duration;
using sdk::TimePoint;

struct SupervisorConfig {

  unsigned ha_connections = 2;                             ///< legs, 1..protocol::kMaxLegs
  Duration stagger = std::chrono::seconds(1);              ///< between legs 1..N-1 starting
  std::size_t transport_count = 1;                         ///< the [[transport]] list, preferred first
  Duration heartbeat_interval = std::chrono::milliseconds(500);  ///< unless the edge assigns one
  Duration heartbeat_timeout = std::chrono::seconds(8);    ///< no ack for this long: the leg is dead
  Duration connect_timeout = std::chrono::seconds(15);     ///< dial + register, per attempt
  Duration grace_period = std::chrono::seconds(30);        ///< streams drain this long on shutdown
  /// How long the old connection of a return to the preferred transport may
  /// carry the streams it has: a return is not a shutdown, and a download or
  /// an SSH session running on it should end on its own. The edge caps a
  /// drain at 1 h (EdgeLegEngine max_grace), so that is the default.
  Duration return_drain = std::chrono::hours(1);
  Duration address_refresh = std::chrono::minutes(5);      ///< re-resolve before dialing with older addresses
  Duration max_retry_after = std::chrono::minutes(10);     ///< cap on an edge's retry-after hint
  /// Cap on the delay before discovery is asked again after it failed with no
  /// list to fall back on: the backoff's own cap (30 s by default) made a
  /// connector whose DNS came back wait up to that long with no tunnel.
  /// Asking discovery is cheap (a cache or a few DNS packets).
  Duration discovery_retry_max = std::chrono::seconds(5);
  bool no_reconnect = false;                               ///< exit 1 on the first loss instead of retrying
};

/// Why `config` cannot run, or nullopt.
std::optional<std::string> find_problem(const SupervisorConfig& config);

}  // namespace warren::core::supervisor

#pragma once
// What the supervisor asks its shell to do. The shell polls these in order
// after every event and carries each out at once; timers are not actions:
// the shell arms one timer at Supervisor::next_timeout().

#include <warren/sdk/discovery.hpp>
#include <warren/sdk/error.hpp>
#include <warren/sdk/time.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace warren::core::supervisor {

/// Ask discovery for fresh edge addresses; answer with
/// handle_addresses_resolved or handle_resolve_failed.
struct Resolve {};

/// Where a leg's previous dial went, when this one goes elsewhere; for the
/// one log line that says from where to where and why.
struct LegMove {
  std::optional<sdk::EdgeAddress> from_address;  ///< set when the address changes
  std::optional<std::size_t> from_transport;     ///< set when the transport changes
  sdk::error_code reason;                        ///< the leg's latest failure
};

/// Dial `address` for `leg` with the transport at `transport` in the
/// configured list; answer with handle_dial_succeeded or handle_dial_failed.
/// A probe (`probe`) is a second connection for a leg registered on a
/// fallback transport, beside its current one; answer with
/// handle_probe_dial_succeeded or handle_probe_failed (also when it is lost).
struct Dial {
  unsigned leg = 0;
  sdk::EdgeAddress address;
  std::size_t transport = 0;
  std::optional<LegMove> moved;  ///< unset for a first dial and for one to the same place
  bool probe = false;
};

/// Which of a leg's connections an action means: its current one, its probe,
/// or the one retiring after a return.
enum class LegConnection { current, probe, retiring };

/// Send RegisterConnection on the leg's control stream; answer with
/// handle_registered or handle_rejected.
struct Register {
  unsigned leg = 0;
  bool replace_existing = false;  ///< evict a stale registration of this leg at the edge
};

/// Send Heartbeat{sequence}; report its ack with handle_heartbeat_ack.
struct SendHeartbeat {
  unsigned leg = 0;
  std::uint64_t sequence = 0;
  /// A retiring connection beats too (the edge holds a draining connector to
  /// its heartbeat deadline); its acks are not reported.
  LegConnection which = LegConnection::current;
};

/// Abort the leg's dial or close its connection, telling the edge `reason`.
/// Report nothing more for that attempt.
struct CloseLeg {
  unsigned leg = 0;
  sdk::error_code reason;
  LegConnection which = LegConnection::current;
};

/// The leg's current connection (already sent Unregister) retires: it serves
/// the streams the edge opened on it until they end, reported with
/// handle_retired_*. With `promote_probe`, the probe becomes the leg's
/// current connection (Register follows); without, the leg has none.
struct RetireConnection {
  unsigned leg = 0;
  bool promote_probe = false;
  std::size_t from_transport = 0;  ///< the retiring connection's, for the one log line of a return
  std::size_t to_transport = 0;
};

/// Send Unregister{grace_period} on the leg; report the edge's UnregisterAck
/// with handle_unregister_acked. Heartbeats go on while the leg drains.
struct Unregister {
  unsigned leg = 0;
  sdk::Duration grace_period{};
};

/// From here on a leg takes only the streams its edge opened before it got
/// our Unregister (UnregisterAck counts them); open ones keep running.
struct StopAcceptingStreams {};

/// A leg (or, with no leg, discovery) will retry after `delay`; for logs.
struct RetryScheduled {
  std::optional<unsigned> leg;
  sdk::Duration delay{};
  sdk::error_code reason;
};

/// The run is over: exit the process with `code` (0 clean, 1 runtime
/// failure, 2 invalid config, 3 refused by the edge). Always the last action.
struct Exit {
  int code = 0;
  sdk::error_code reason;
  std::uint64_t streams_cut = 0;  ///< open streams this exit (or a lost leg while draining) ends
  bool grace_expired = false;     ///< the drain ran out of grace period
};

using SupervisorAction =
    std::variant<Resolve, Dial, Register, SendHeartbeat, CloseLeg, RetireConnection, Unregister, StopAcceptingStreams,
                 RetryScheduled, Exit>;

}  // namespace warren::core::supervisor

namespace warren::core::supervisor {

/// One line for logs and test expectations: "Dial leg=1 10.0.0.2:7844 transport=0".
std::string to_string(const SupervisorAction& action);

}  // namespace warren::core::supervisor

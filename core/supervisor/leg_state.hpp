#pragma once
// One HA leg as the supervisor sees it: where it is in its life, and the
// per-leg state the policies read and update (the policies own none).

#include <warren/sdk/discovery.hpp>
#include <warren/sdk/policy.hpp>
#include <warren/sdk/time.hpp>

#include <cstdint>
#include <optional>

namespace warren::core::supervisor {

enum class LegPhase {
  idle,                ///< not started: waits for leg 0's first registration
  scheduled,           ///< will start an attempt at `deadline` (backoff or stagger)
  awaiting_addresses,  ///< wants to dial; discovery is running
  dialing,             ///< Dial issued; gives up at `deadline`
  registering,         ///< Register issued; gives up at `deadline`
  registered,          ///< live: carries streams, heartbeats run
  unregistering,       ///< shutting down: Unregister sent, streams drain, heartbeats run
  closed,              ///< done for this run
};

/// True while the leg holds (or is making) a transport connection.
inline bool holds_connection(LegPhase p) {
  return p == LegPhase::dialing || p == LegPhase::registering || p == LegPhase::registered ||
         p == LegPhase::unregistering;
}

/// True while the leg is registered at the edge and heartbeats run.
inline bool heartbeats_run(LegPhase p) { return p == LegPhase::registered || p == LegPhase::unregistering; }

/// A probe of the preferred transport (index 0) by a leg registered on a
/// fallback one: a second connection to the same edge address.
enum class ProbePhase {
  none,
  dialing,         ///< Dial{.probe} issued; gives up at `Probe::deadline`
  unregistering,   ///< the probe connected; Unregister + Heartbeat{fence} sent on the leg's connection
};

struct Probe {
  ProbePhase phase = ProbePhase::none;
  sdk::TimePoint deadline{};  ///< the dial and the fence's ack, together
  std::uint64_t fence = 0;    ///< the heartbeat sent right after the Unregister: its ack proves the edge read it
};

/// A leg's previous connection after a return to the preferred transport (or
/// after its probe failed once the old connection was already unregistered):
/// unregistered at the edge, it takes no new streams and serves its open ones
/// until they finish, for at most the grace period.
struct Retiring {
  bool active = false;
  std::size_t transport = 0;
  std::optional<sdk::EdgeAddress> edge;
  std::uint64_t streams_arrived = 0;
  std::uint64_t streams_open = 0;
  std::optional<std::uint64_t> streams_opened_by_edge;  ///< from UnregisterAck
  sdk::TimePoint deadline{};                            ///< the grace period ends: close it
  sdk::TimePoint next_heartbeat{};                      ///< the edge holds a draining connection to its heartbeats
  std::uint64_t last_sent = 0;
};

struct LegState {
  LegPhase phase = LegPhase::idle;
  sdk::TimePoint deadline{};  ///< meaning depends on phase, see LegPhase

  sdk::BackoffState backoff;
  sdk::AddressState address;
  sdk::FallbackState fallback;

  std::optional<sdk::EdgeAddress> edge;        ///< the address of the current attempt or connection
  std::optional<sdk::TimePoint> last_failure;  ///< of the leg's last attempt or connection
  bool register_sent = false;                  ///< later registrations replace the edge's stale one
  bool ever_registered = false;
  // Streams of the current connection, and the edge's answer to Unregister.
  std::uint64_t streams_arrived = 0;
  std::uint64_t streams_open = 0;
  std::optional<std::uint64_t> streams_opened_by_edge;  ///< from UnregisterAck

  // Heartbeats, while registered.
  sdk::Duration heartbeat_interval{};
  sdk::Duration heartbeat_timeout{};
  sdk::TimePoint next_heartbeat{};
  sdk::TimePoint ack_deadline{};  ///< no valid ack by then: heartbeat_timeout
  std::uint64_t last_sent = 0;
  std::uint64_t last_acked = 0;

  // The return to the preferred transport (registered on a fallback one).
  std::optional<sdk::TimePoint> next_probe;  ///< from FallbackPolicy::next_probe
  Probe probe;
  Retiring retiring;
};

/// Same edge endpoint (address and port); names and regions do not matter.
inline bool same_endpoint(const sdk::EdgeAddress& a, const sdk::EdgeAddress& b) {
  return a.address == b.address && a.port == b.port;
}

}  // namespace warren::core::supervisor

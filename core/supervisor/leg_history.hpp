#pragma once
// Each leg's short history: the last few things that happened to it (dialed
// where over which transport, registered, lost and why, moved elsewhere),
// plus running totals that outlive the bounded list. The supervisor records
// into it; logs, /status and /metrics read it. Sans-io: times are given.

#include "core/supervisor/leg_state.hpp"

#include <warren/sdk/discovery.hpp>
#include <warren/sdk/error.hpp>
#include <warren/sdk/time.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace warren::core::supervisor {

enum class LegEvent {
  dialing,          ///< a dial started: `address`, `transport`
  dial_failed,      ///< the dial (or its handshake) failed: `error`
  connected,        ///< the transport connection is up; registration follows
  registered,       ///< the edge took the registration
  rejected,         ///< the edge refused the registration: `error`
  lost,             ///< a registering or registered connection ended: `error`
  retry_scheduled,  ///< the next attempt is `delay` away: `error` says why
  moved_address,    ///< the next dial goes to `address`, not `from`: after `error`
  moved_transport,  ///< the next dial uses `transport`, not `from_transport`: after `error`
  unregistering,    ///< shutdown: Unregister sent
  unregistered,     ///< the edge acknowledged the Unregister
  probing,          ///< a probe of `transport` (the preferred one) started, beside the fallback connection
  probe_failed,     ///< the probe failed (`error`); the fallback connection stays
  returned_transport,  ///< the probe connected: the leg moves to `transport` from `from_transport`, which drains
  retired,          ///< the retiring connection is closed: drained, or `error` (lost, or the grace period ended)
};

/// Stable snake_case names, for logs, /status and metric labels.
std::string_view name(LegEvent event);
/// The same for a leg's phase ("registered", "scheduled" …).
std::string_view name(LegPhase phase);

struct LegHistoryEntry {
  sdk::TimePoint at{};
  LegEvent event = LegEvent::dialing;
  std::optional<sdk::EdgeAddress> address;  ///< where the leg was (or is going, for dialing and moves)
  std::size_t transport = 0;                ///< index in the [[transport]] list
  sdk::error_code error;                    ///< why, for failures, retries and moves
  std::optional<sdk::EdgeAddress> from;     ///< moved_address: where the leg was
  std::size_t from_transport = 0;           ///< moved_transport: the transport it used
  sdk::Duration delay{};                    ///< retry_scheduled
};

/// Counts since the start of the run; the bounded list forgets, these do not.
struct LegTotals {
  std::uint64_t dials = 0;
  std::uint64_t registrations = 0;
  std::uint64_t address_moves = 0;
  std::uint64_t transport_moves = 0;
  std::map<std::string, std::uint64_t> losses;            ///< `lost`, by sdk::name(error)
  std::map<std::string, std::uint64_t> attempt_failures;  ///< dial_failed and rejected, by sdk::name(error)
  std::map<std::string, std::uint64_t> rejections;        ///< `rejected` alone, by sdk::name(error)
};

class LegHistory {
 public:
  static constexpr std::size_t kCapacity = 16;

  /// Appends `entry`, dropping the oldest past kCapacity, and counts it.
  void record(LegHistoryEntry entry);

  /// Oldest first; at most kCapacity.
  const std::deque<LegHistoryEntry>& entries() const { return entries_; }
  const LegTotals& totals() const { return totals_; }
  /// The error of the latest failure (dial_failed, rejected or lost); empty before any.
  sdk::error_code last_error() const { return last_error_; }
  /// Where and over which transport the latest dial went.
  const std::optional<sdk::EdgeAddress>& last_address() const { return last_address_; }
  std::optional<std::size_t> last_transport() const { return last_transport_; }

 private:
  std::deque<LegHistoryEntry> entries_;
  LegTotals totals_;
  sdk::error_code last_error_;
  std::optional<sdk::EdgeAddress> last_address_;
  std::optional<std::size_t> last_transport_;
};

/// One line for logs and test expectations, without the time:
/// "lost 10.0.0.1:7844 transport=0 heartbeat_timeout".
std::string to_string(const LegHistoryEntry& entry);

}  // namespace warren::core::supervisor

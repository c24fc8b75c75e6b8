#pragma once
// The connector's supervisor: HA legs, registration, heartbeats, reconnect
// with backoff, address rotation, transport fallback and graceful shutdown,
// as a sans-io state machine (quinn-proto style). It owns no socket, reads
// no clock and draws randomness only from the RandomSource it is given.
// Events come in through handle_*(now, ...); the shell then drains
// poll_action() and arms one timer for next_timeout(), calling
// handle_timeout(now) when it fires.
//
// Life of a run: resolve edges -> dial and register leg 0 -> start legs
// 1..N-1, `stagger` apart -> keep every leg alive (heartbeats; on loss:
// classify, rotate address, maybe fall back, back off, reconnect with
// replace_existing) -> on shutdown: unregister every registered leg; each
// one closes as soon as the edge acknowledged (UnregisterAck, with the count
// of streams it opened) and all those streams arrived and finished; Exit 0
// when every leg has drained or the grace period ended, Exit 1 when a leg
// was lost mid-drain with streams still open (they were cut, not drained).
// A fatal error ends the run at once (Exit 2 or 3).

#include "core/supervisor/leg_history.hpp"
#include "core/supervisor/leg_state.hpp"
#include "core/supervisor/supervisor_action.hpp"
#include "core/supervisor/supervisor_config.hpp"

#include <warren/sdk/policy.hpp>
#include <warren/sdk/random.hpp>

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace warren::core::supervisor {

/// What the edge told a leg in Registered, as far as supervision cares.
struct RegisteredInfo {
  Duration heartbeat_interval{};  ///< zero: keep the configured interval
};

/// The exit code for a fatal error: 2 for the user's own configuration, 3
/// for a refusal by (or of) the edge.
int exit_code_for_fatal(const sdk::error_code& error);

/// What discovery did so far, for the connector's /status and /metrics.
struct DiscoveryStatus {
  std::map<std::string, std::uint64_t, std::less<>> failures;  ///< failed resolves by error name (sdk::name)
  sdk::error_code last_error;                                  ///< the last failure's code; empty before any
  std::string last_detail;                                     ///< the discovery's own words for it, if any
  std::optional<TimePoint> last_failure_at;
  std::optional<TimePoint> last_success_at;
};

class Supervisor {
 public:
  /// The policies and `random` must outlive the supervisor. `address` and
  /// `fallback` are required (the connector takes them from its plugin set,
  /// where the bundled `ip-rotation` and `fallback` plugins play the roles
  /// by default). Throws std::invalid_argument when one is null or
  /// find_problem(config) finds a problem.
  Supervisor(SupervisorConfig config, const sdk::BackoffPolicy& backoff, sdk::RandomSource& random,
             const sdk::AddressPolicy* address, const sdk::FallbackPolicy* fallback);

  // Events. Each one out of place (a late answer for an attempt already
  // abandoned, an unknown leg) is ignored.
  void handle_start(TimePoint now);
  void handle_addresses_resolved(TimePoint now, std::vector<sdk::EdgeAddress> addresses);
  /// `detail`: the discovery's words for the failure (which record, which
  /// resolver), kept for discovery().
  void handle_resolve_failed(TimePoint now, sdk::error_code error, std::string detail = {});
  void handle_dial_succeeded(TimePoint now, unsigned leg);
  void handle_dial_failed(TimePoint now, unsigned leg, sdk::error_code error);
  void handle_registered(TimePoint now, unsigned leg, RegisteredInfo info);
  /// `retry_after` from the edge is a lower bound on the next delay.
  void handle_rejected(TimePoint now, unsigned leg, sdk::error_code error, bool fatal, Duration retry_after);
  void handle_heartbeat_ack(TimePoint now, unsigned leg, std::uint64_t sequence);
  void handle_connection_lost(TimePoint now, unsigned leg, sdk::error_code error);
  void handle_timeout(TimePoint now);
  /// Graceful stop; a second call stops at once.
  void handle_shutdown(TimePoint now);
  /// A data stream arrived on the leg's current connection / it ended.
  void handle_stream_opened(TimePoint now, unsigned leg);
  void handle_stream_closed(TimePoint now, unsigned leg);
  /// The edge answered our Unregister: it opened `streams_opened` data
  /// streams on this connection in all and opens no more.
  void handle_unregister_acked(TimePoint now, unsigned leg, std::uint64_t streams_opened);

  // The return to the preferred transport (supervisor_probe.cpp). A leg
  // registered on a fallback transport dials transport 0 beside it (Dial with
  // `probe`) when the fallback policy says; these report on that connection.
  void handle_probe_dial_succeeded(TimePoint now, unsigned leg);
  /// The probe's dial failed, or its connection ended before it took over.
  void handle_probe_failed(TimePoint now, unsigned leg, sdk::error_code error);
  // And these on the connection a RetireConnection set aside.
  void handle_retired_stream_opened(TimePoint now, unsigned leg);
  void handle_retired_stream_closed(TimePoint now, unsigned leg);
  void handle_retired_unregister_acked(TimePoint now, unsigned leg, std::uint64_t streams_opened);
  void handle_retired_lost(TimePoint now, unsigned leg, sdk::error_code error);

  /// A reload's settings and policies (supervisor_reload.cpp), which apply
  /// as legs reconnect: the next retry delay, address choice and fallback
  /// step use the new policies (each leg keeps its policy state), the next
  /// attempt asks discovery again when `rediscover`. No leg is closed for it,
  /// except when `config.ha_connections` is lowered: each extra leg
  /// unregisters and drains its streams for the grace period, then closes and
  /// is not retried. Raised: the new legs start, a stagger apart (legs still
  /// draining from a lowering start again once they closed). The policies
  /// must outlive the supervisor or the next handle_settings. Throws
  /// std::invalid_argument, changing nothing, for a config the constructor
  /// refuses, a null policy, or another transport_count (a restart's).
  void handle_settings(TimePoint now, SupervisorConfig config, const sdk::BackoffPolicy& backoff,
                       const sdk::AddressPolicy* address, const sdk::FallbackPolicy* fallback, bool rediscover);
  /// The legs the run keeps (ha_connections); legs() also holds the ones a
  /// lowering let go.
  unsigned wanted_legs() const { return config_.ha_connections; }

  /// The next thing to do, in order; nullopt when there is nothing.
  std::optional<SupervisorAction> poll_action();
  /// When to call handle_timeout; nullopt when no timer is needed.
  std::optional<TimePoint> next_timeout() const;

  bool finished() const { return phase_ == RunPhase::finished; }
  std::span<const LegState> legs() const { return legs_; }
  const std::vector<sdk::EdgeAddress>& addresses() const { return addresses_; }
  /// The leg's recent events and totals (read-only; `leg` < ha_connections).
  const LegHistory& leg_history(unsigned leg) const { return history_.at(leg); }
  const DiscoveryStatus& discovery() const { return discovery_; }

 private:
  enum class RunPhase { created, running, draining, finished };
  /// Where an attempt failed: only dial failures count toward fallback.
  enum class FailedIn { dial, session };

  struct Failure {
    sdk::error_code error;
    FailedIn where = FailedIn::session;
    bool fatal = false;
    bool close = false;  ///< the connection is still open: send CloseLeg
    Duration retry_after{};
  };

  LegState* live_leg(unsigned leg);
  void begin_attempt(TimePoint now, unsigned leg);
  void dial(TimePoint now, unsigned leg);
  sdk::AddressChoice choose_address(TimePoint now, unsigned leg);
  void request_resolve();
  void dial_waiting_legs(TimePoint now);
  void fail_leg(TimePoint now, unsigned leg, const Failure& failure);
  void schedule_retry(TimePoint now, unsigned leg, const Failure& failure);
  /// Dial the leg's current edge again `after` from now, outside the backoff policy.
  void retry_same_edge(TimePoint now, unsigned leg, const sdk::error_code& error, std::chrono::duration<double> after);
  void start_other_legs(TimePoint now);
  void run_leg_timers(TimePoint now, unsigned leg);
  /// Records `event` in the leg's history at its current address and transport.
  void note(TimePoint now, unsigned leg, LegEvent event, sdk::error_code error = {}, Duration delay = {});
  /// Records the moves (address, transport) this dial makes, then the dial.
  std::optional<LegMove> note_dial(TimePoint now, unsigned leg, const sdk::EdgeAddress& to, std::size_t transport);
  void finish(int code, sdk::error_code reason, bool grace_expired = false);
  void finish_if_drained();
  void close_if_drained(TimePoint now, unsigned leg);
  /// A leg a reload let go (supervisor_reload.cpp): it unregisters and drains.
  void leave_leg(TimePoint now, unsigned leg);
  /// A leg that just closed starts again when the run wants it (ha_connections raised back).
  void rejoin_if_wanted(TimePoint now, unsigned leg);
  /// The leg's connection is gone while draining: its open streams were cut.
  void count_cut(LegState& leg, sdk::error_code why);

  // The return (supervisor_probe.cpp).
  void schedule_probe(TimePoint now, unsigned leg);
  void start_probe(TimePoint now, unsigned leg);
  void run_probe_timers(TimePoint now, unsigned leg);
  /// Ends the probe (closing its connection when `close`); the fallback connection stays.
  void drop_probe(TimePoint now, unsigned leg, sdk::error_code why, bool close);
  /// The leg's current connection, Unregister already sent, becomes its retiring one.
  void retire_current(TimePoint now, unsigned leg, bool promote);
  void close_retiring_if_drained(TimePoint now, unsigned leg);
  void promote_probe(TimePoint now, unsigned leg, std::optional<std::uint64_t> streams_opened);
  void close_retiring(TimePoint now, unsigned leg, sdk::error_code why);
  /// The leg's connections the drain still waits for (current and retiring).
  bool holds_any_connection(const LegState& leg) const;

  SupervisorConfig config_;
  const sdk::BackoffPolicy* backoff_;  ///< never null; handle_settings replaces the three
  sdk::RandomSource& random_;
  const sdk::AddressPolicy* address_;
  const sdk::FallbackPolicy* fallback_;
  sdk::AddressHealth address_health_;  ///< the address policy's memory across legs

  RunPhase phase_ = RunPhase::created;
  std::vector<LegState> legs_;
  std::vector<LegHistory> history_;  ///< one per leg
  bool first_registration_ = false;  ///< leg 0 registered once: the others may start

  std::vector<sdk::EdgeAddress> addresses_;
  std::optional<TimePoint> resolved_at_;
  bool resolve_in_flight_ = false;
  std::optional<TimePoint> resolve_retry_at_;
  sdk::BackoffState resolve_backoff_;
  DiscoveryStatus discovery_;

  std::optional<TimePoint> drain_deadline_;
  std::uint64_t streams_cut_ = 0;  ///< during the drain, by lost legs
  sdk::error_code cut_reason_;      ///< why the first of them was lost
  std::deque<SupervisorAction> actions_;
};

}  // namespace warren::core::supervisor

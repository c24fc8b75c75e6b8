#pragma once
// A tiny simulated world for the supervisor, in virtual time: edges that
// accept, refuse, die loudly or go silent; dials and registrations with
// random latencies; heartbeat acks that get lost; discovery that fails;
// a shutdown signal; data streams the edge opens on registered legs, which
// arrive late and out of order and last from milliseconds to a minute; and
// UnregisterAck with the edge's count of streams opened; DNS answers that
// change (edges added and removed); edges that die (every connection lost,
// dials refused fast, ICMP-unreachable or hanging) and come back with an
// empty registry; and one or two replicas (connector processes with their
// own connector id and supervisor) registering on the same edges, each edge
// admitting them with the real TunnelRegistry. SimWorld plays the shell too:
// it carries out every action at once, and checks the supervisor's
// invariants after every step. Everything random comes from one seed.

#include "core/edge/tunnel_registry.hpp"
#include "core/supervisor/supervisor.hpp"
#include "plugins/fallback/fallback.hpp"
#include "plugins/ip-rotation/rotation.hpp"
#include "test_policies.hpp"

#include <warren/sdk/random.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

namespace warren::core::supervisor::test {

/// What one seeded run looks like (drawn from the seed).
struct SimScenario {
  SupervisorConfig config;
  std::size_t edge_count = 1;
  bool quic_blocked = false;             ///< transport 0 fails with quic_broken (or hangs) …
  std::optional<sdk::Duration> quic_heals_at;  ///< … until this long after the start (probes then return)
  bool auth_fails = false;               ///< every registration is refused fatally
  bool custom_address_policy = false;    ///< a careless third-party policy instead of ip-rotation
  ip_rotation::RotationConfig rotation;  ///< the ip-rotation plugin's keys for this run
  fallback::FallbackConfig fallback{.probe_interval = {}, .max_failures = 3};  ///< the fallback plugin's keys
  double ack_loss = 0;
  double reject_rate = 0;
  double resolve_failure_rate = 0;
  sdk::Duration edge_interval{};  ///< what Registered assigns (zero: none)
  std::optional<sdk::Duration> shutdown_at;
  sdk::Duration backoff_base{}, backoff_cap{};
  std::uint32_t backoff_give_up = 0;  ///< 0: never
  unsigned replicas = 1;              ///< connector processes (distinct connector ids) on the same edges
  bool dns_changes = false;           ///< discovery's answer changes during the run
  double dead_edge_unreachable = 0;   ///< share of fast dial failures to a dead edge that are ICMP (peer_unreachable)

  static SimScenario draw(sdk::RandomSource& random);
  std::string describe() const;
};

/// Tallies over many runs, to show the simulation reaches every outcome.
struct SimStats {
  std::uint64_t runs = 0, events = 0;
  std::uint64_t exits[4] = {0, 0, 0, 0};
  std::uint64_t heartbeat_timeouts = 0, connect_timeouts = 0, fallbacks = 0, retry_floors = 0, held_slot_retries = 0;
  std::uint64_t shutdowns = 0, unregisters = 0, registrations = 0, unfinished = 0;
  std::uint64_t streams = 0, legs_drained = 0, graces_expired = 0, drains_cut = 0;
  std::uint64_t counted_failures = 0, rotations_away = 0;  ///< Dials after a counted failure, and those that moved
  // The faults this simulation adds (issue 8): DNS answers that change,
  // edges that die and come back, replicas sharing the edges.
  std::uint64_t dns_changes = 0, dns_added = 0, dns_removed = 0, dns_empty = 0, resolves = 0, stale_dials = 0;
  std::uint64_t edge_deaths = 0, edge_returns = 0, dead_dial_failed = 0, dead_dial_unreachable = 0, dead_dial_hung = 0,
                legs_lost_to_dead_edges = 0, rehomes = 0;
  std::uint64_t replica_runs = 0, replicas_registered_together = 0, replicas_sharing_an_edge = 0, edge_admissions = 0,
                edge_replacements = 0, closes_missed_by_edge = 0, stale_slot_refusals = 0;
  std::uint64_t fatal_exits_checked = 0, retry_streaks_at_limit = 0;
  std::uint64_t shared_live_edge = 0;         ///< Dials to a held address because every free one failed lately
  std::uint64_t max_resolves_per_minute = 0;  ///< the busiest virtual minute of any replica
  // The return to the preferred transport: probes dialed, failed, and the
  // returns that registered the probe while the old connection drained.
  std::uint64_t probes = 0, probe_failures = 0, returns = 0, returns_registered = 0, retirements_drained = 0,
                retirements_cut_by_grace = 0, retiring_streams = 0, probes_cut_short = 0;
};

namespace sim {

/// The ip-rotation policy, recording every error it was told about, so the
/// world can hold the supervisor's next Dial against the rotation rules.
class RecordingRotation final : public sdk::AddressPolicy {
 public:
  struct Failure {
    sdk::EdgeAddress address;
    bool counted = false;
    sdk::TimePoint at;
  };
  explicit RecordingRotation(ip_rotation::RotationConfig config) : inner_(std::move(config)) {}
  sdk::AddressChoice choose(sdk::AddressState& state, sdk::AddressHealth& health,
                            std::span<const sdk::EdgeAddress> addresses, unsigned leg,
                            std::span<const std::size_t> taken, sdk::TimePoint now,
                            sdk::RandomSource& random) const override {
    return inner_.choose(state, health, addresses, leg, taken, now, random);
  }
  sdk::AddressAction on_error(sdk::AddressState& state, sdk::AddressHealth& health, const sdk::EdgeAddress& address,
                              const sdk::error_code& error, sdk::TimePoint now) const override {
    auto action = inner_.on_error(state, health, address, error, now);
    Failure f{address, action == sdk::AddressAction::rotate_and_count, now};
    last[&state] = f;
    if (f.counted) counted.push_back(f);
    return action;
  }
  void on_connected(sdk::AddressState& state, sdk::AddressHealth& health, const sdk::EdgeAddress& address,
                    sdk::TimePoint now) const override {
    last.erase(&state);
    inner_.on_connected(state, health, address, now);
  }
  const ip_rotation::RotationConfig& config() const { return inner_.config(); }
  sdk::AddressAction classify(const sdk::error_code& error) const { return inner_.classify(error); }

  mutable std::map<const sdk::AddressState*, Failure> last;  ///< each leg's error since it last registered
  mutable std::vector<Failure> counted;                      ///< every counted failure, any leg

 private:
  ip_rotation::IpRotationPolicy inner_;
};

enum Kind {
  resolved,
  resolve_failed,
  dial_ok,
  dial_failed,
  registered,
  rejected,
  ack,
  lost,
  unregister_acked,
  stream_edge_open,
  stream_arrive,
  stream_close,
  shutdown,
  edge_down,
  edge_up,
  dns_change,
  edge_notices_close  ///< the edge finally removes a leg whose close it missed
};

/// Something the world will tell the supervisor (or itself) at `at`.
struct Event {
  sdk::TimePoint at;
  std::uint64_t order = 0;  ///< ties broken by scheduling order
  Kind kind = resolved;
  unsigned leg = 0;
  std::uint64_t attempt = 0;  ///< the connection it belongs to; stale ones are dropped
  sdk::error_code ec;
  std::uint64_t seq = 0;
  bool fatal = false;
  sdk::Duration retry_after{};
  sdk::Duration interval{};
  std::size_t edge = 0;
  std::vector<sdk::EdgeAddress> addresses;
  unsigned replica = 0;  ///< whose connection or supervisor it concerns
};

/// The world's view of one leg's connection.
struct Connection {
  enum class State { dialing, connected, registered, unregistering };
  std::uint64_t attempt = 0;
  std::size_t edge = 0;
  std::size_t transport = 0;
  State state = State::dialing;
  sdk::TimePoint since;
  std::optional<sdk::TimePoint> silent_since;  ///< the edge vanished without a word
  // Data streams: opened by the edge, arrived at the connector, still open.
  std::uint64_t edge_opened = 0, arrived = 0, open = 0;
  bool edge_unregistered = false;          ///< the edge got Unregister: no more opens
  std::optional<std::uint64_t> ack_count;  ///< UnregisterAck delivered with this count
  bool at_edge = false;                    ///< admitted by the edge's TunnelRegistry (LegId = attempt)
  bool was_probe = false;                  ///< a probe promoted by a return
  std::uint64_t edge_epoch = 0;            ///< the edge process's life it was admitted in
  /// Acknowledged, every stream arrived and finished: nothing keeps it open.
  bool drained() const { return ack_count && arrived == *ack_count && open == 0; }
};

}  // namespace sim

/// Makes the backoff policy for a run; the default is the test's own
/// ExponentialBackoff with the scenario's numbers.
using BackoffFactory = std::function<std::unique_ptr<sdk::BackoffPolicy>(const SimScenario&)>;

namespace sim {

struct EventOrder {
  bool operator()(const std::shared_ptr<Event>& a, const std::shared_ptr<Event>& b) const;
};

/// What the replicas share: virtual time, the event queue, the dice, the
/// edges (each one a TunnelRegistry while it lives) and discovery's answer.
struct Net {
  explicit Net(std::uint64_t seed) : random(seed) {}
  sdk::SeededRandom random;
  sdk::SeededRandom edge_random{7};  ///< the registries' (quick tunnels only)
  sdk::TimePoint start, now;
  std::uint64_t next_order = 0, next_attempt = 0;
  std::priority_queue<std::shared_ptr<Event>, std::vector<std::shared_ptr<Event>>, EventOrder> queue;
  std::vector<sdk::EdgeAddress> edges;  ///< every edge that may ever be in DNS
  std::vector<bool> edge_up, edge_silent, in_dns;
  std::vector<std::uint64_t> edge_epoch;
  std::vector<std::unique_ptr<TunnelRegistry>> registries;
  struct Owner {
    unsigned replica = 0, leg = 0;
    std::size_t edge = 0;
    std::uint64_t epoch = 0;
  };
  /// The connection behind each LegId an edge still holds (closed ones too,
  /// until the edge notices).
  std::map<LegId, Owner> owners;
  std::optional<std::string> violation;
  std::vector<std::string> trace;
};

/// Every simulated edge serves one configured tunnel ("sim"), with room for two replicas.
RegistryLimits sim_registry_limits();
std::vector<TunnelEntry> sim_tunnels();

}  // namespace sim

/// One connector process: its supervisor, policies, and the shell's view of
/// its legs' connections.
class SimReplica {
 public:
  SimReplica(unsigned index, sim::Net& net, const SimScenario& scenario, std::uint64_t seed, SimStats& stats,
             const BackoffFactory& make_backoff, std::optional<sdk::Duration> shutdown_at);
  ~SimReplica();

  void start();
  void drain();
  void deliver(sim::Event& e);
  void on_timer();
  void edge_went_down(std::size_t edge);
  void check_after_step();
  void finish_at_horizon();
  std::optional<sdk::TimePoint> next_timeout() const;
  bool exited() const { return exit_code_.has_value(); }
  const std::vector<std::unique_ptr<sim::Connection>>& connections() const { return legs_; }
  bool is_registered(unsigned leg) const;

 private:
  using Event = sim::Event;
  using Connection = sim::Connection;

  void deliver_to_leg(Event& e);
  void deliver_to_probe(Event& e);
  void deliver_to_retiring(Event& e);
  void execute_probe(const Dial& a);
  void execute_retire(const RetireConnection& a);
  void close_retiring(unsigned leg);
  bool quic_blocked_now() const;
  /// An event about `c` (not necessarily the leg's current connection).
  std::shared_ptr<Event> event_for(const Connection& c, sim::Kind kind, sdk::Duration after, unsigned leg);
  void request_shutdown();
  void execute(const SupervisorAction& action);
  void execute_resolve();
  void execute_dial(const Dial& a);
  void execute_register(const Register& a);
  void admit_at_edge(const Register& a, Event& outcome);
  void check_rotation(const Dial& a, std::size_t edge, const std::set<std::size_t>& held);
  void check_exit(const Exit& done);
  void close(unsigned leg, const sdk::error_code& reason);
  void forget_at_edge(const Connection& c);
  void deliver_stream_event(Event& e, Connection& c, bool retiring);
  void schedule(std::shared_ptr<Event> e);
  std::shared_ptr<Event> event(sim::Kind kind, sdk::Duration after, unsigned leg = 0);
  sdk::Duration latency(sdk::Duration lo, sdk::Duration hi);
  bool chance(double p);
  void violate(std::string what);
  void trace(std::string line);

  unsigned index_;
  std::string connector_id_;
  sim::Net& net_;
  std::uint64_t seed_;
  SimStats& stats_;
  sdk::SeededRandom& random_;        ///< the world's dice (shared)
  sdk::SeededRandom policy_random_;  ///< the supervisor's RandomSource
  const SimScenario& scenario_;
  std::optional<sdk::Duration> shutdown_at_;
  std::vector<sdk::EdgeAddress>& edges_;
  std::vector<bool>& edge_up_;
  std::vector<bool>& edge_silent_;
  std::unique_ptr<sdk::BackoffPolicy> policy_;
  std::unique_ptr<RecordingBackoff> backoff_;
  std::unique_ptr<sdk::AddressPolicy> address_;
  std::unique_ptr<fallback::CountingFallback> fallback_;
  sim::RecordingRotation* rotation_ = nullptr;  ///< address_, unless the scenario uses a careless policy
  std::unique_ptr<Supervisor> supervisor_;

  sdk::TimePoint& start_;
  sdk::TimePoint& now_;
  std::vector<std::unique_ptr<Connection>> legs_;  ///< the world's view of each leg's connection
  std::vector<std::unique_ptr<Connection>> probes_;    ///< a leg's probe of transport 0, beside legs_
  std::vector<std::unique_ptr<Connection>> retiring_;  ///< a leg's old connection after a return, draining
  std::vector<sdk::TimePoint> retired_at_;
  std::vector<bool> promoted_;         ///< the leg's next Register is its promoted probe's
  bool retiring_closed_early_ = false;  ///< a retiring connection closed undrained before its grace: only an Exit may
  std::vector<bool> register_sent_;
  std::vector<std::optional<sdk::TimePoint>> retry_at_;
  std::vector<std::uint64_t> last_heartbeat_;
  std::vector<std::uint32_t> dial_failures_on_quic_;       ///< consecutive, on transport 0
  std::vector<std::optional<sdk::Duration>> retry_floor_;  ///< retry-after delivered this step
  std::vector<std::optional<std::size_t>> last_registered_edge_;
  // A leg's counted failures in a row on one address (since it last registered).
  std::vector<std::optional<sdk::EdgeAddress>> streak_address_;
  std::vector<std::uint32_t> streak_;
  // Discovery as the supervisor knows it, and how often it asks.
  std::vector<sdk::EdgeAddress> last_answer_;  ///< the addresses last delivered to handle_addresses_resolved
  bool resolve_in_flight_ = false;
  std::optional<sdk::TimePoint> last_answer_at_;
  bool leg_failed_since_answer_ = false;
  std::optional<sdk::TimePoint> resolve_not_before_;  ///< a lookup failed with nothing known: its backoff
  bool resolve_backoff_pending_ = false;
  std::vector<sdk::TimePoint> resolve_times_;  ///< Resolve actions within the last minute
  bool leg0_registered_once_ = false;
  bool shutdown_requested_ = false;
  bool streams_stopped_ = false;
  std::uint64_t cut_by_loss_ = 0;  ///< streams of legs lost (or timed out) mid-drain
  std::uint64_t cut_at_exit_ = 0;  ///< streams of draining legs closed by the exit
  bool forced_stop_ = false;       ///< the horizon's double shutdown: no drain expected
  sdk::TimePoint shutdown_time_{};
  std::set<unsigned> must_unregister_;
  std::optional<int> exit_code_;
  bool fatal_delivered_ = false;
  bool fatal_this_step_ = false;
};

/// One seeded run: the shared network, edges and DNS, and its replicas.
class SimWorld {
 public:
  SimWorld(std::uint64_t seed, SimStats& stats, const BackoffFactory& make_backoff = {});
  ~SimWorld();

  /// Runs up to `max_events` steps or until every replica exited. Returns
  /// the first invariant violation, with a trace of recent steps.
  std::optional<std::string> run(std::size_t max_events);

  const SimScenario& scenario() const { return scenario_; }

 private:
  void deliver(sim::Event& e);
  void edge_goes_down(std::size_t edge);
  void change_dns();
  void schedule(std::shared_ptr<sim::Event> e);
  void check_after_step();

  std::uint64_t seed_;
  SimStats& stats_;
  sim::Net net_;
  SimScenario scenario_;
  std::vector<std::unique_ptr<SimReplica>> replicas_;
};

}  // namespace warren::core::supervisor::test

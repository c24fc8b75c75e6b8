#pragma once
// The `group` backend's brain, sans-io: which of N targets is healthy, which
// one the next stream goes to, and when each target is probed. No socket, no
// clock, no global randomness: every input takes `now`, the random balance
// draws from an injected sdk::RandomSource, and GroupBackend (the Asio shell)
// runs the actions from poll_action() and arms one timer at next_timeout().
//
// A target is *available* (may be picked) when it is up by its active checks
// and not ejected by passive ones:
//  - Active checks (HAProxy's `inter`/`rise`/`fall`, server keyword docs,
//    configuration.txt §5.2): one probe per target every `interval`; `fall`
//    consecutive failed probes take an up target down, `rise` consecutive
//    passes bring a down one back. Targets start up (HAProxy's default
//    `init-state fully-up`), so a group serves from its first stream.
//  - Passive ejection (Envoy outlier detection, `consecutive_local_origin_failure`
//    with `split_external_local_origin_errors`: connect failures, not HTTP
//    codes; `base_ejection_time`): `max_connect_failures` consecutive failed
//    connects eject a target. With active checks it is then down and comes
//    back after `rise` passing probes (like Envoy's
//    `successful_active_health_check_uneject_host`, but needing `rise` passes,
//    so one lucky probe does not undo it); with no active checks it comes
//    back once `ejection_time` has passed.
// No panic mode (unlike Envoy's healthy_panic_threshold): with no target
// available, pick() says none and the stream is refused at once.

#include <warren/sdk/random.hpp>
#include <warren/sdk/time.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <variant>
#include <vector>

namespace warren::group {

enum class Balance { random, round_robin, least_connections };

struct PoolSettings {
  std::size_t targets = 1;  ///< at least 1; targets are named by index 0..targets-1
  Balance balance = Balance::round_robin;
  bool active_checks = true;  ///< false: no probes, every target up unless ejected
  sdk::Duration interval = std::chrono::seconds(1);  ///< between probe starts of one target; > 0
  unsigned rise = 2;  ///< consecutive passing probes that bring a down target back; >= 1
  unsigned fall = 2;  ///< consecutive failing probes that take an up target down; >= 1
  unsigned max_connect_failures = 3;  ///< consecutive failed connects that eject; 0: never eject
  sdk::Duration ejection_time = std::chrono::seconds(10);  ///< with no active checks: how long an ejection lasts
};

/// Start one active check of `target` now and report it with
/// handle_probe_result (exactly once; a probe that times out is a failure).
struct ProbeTarget {
  std::size_t target;
};
enum class DownReason { probes_failed, connect_failures };
/// `target` stopped being available (for the log).
struct TargetDown {
  std::size_t target;
  DownReason why;
  unsigned in_a_row;  ///< the failed probes (fall or more) or connects that took it down
};
enum class UpReason { probes_passed, ejection_ended };
/// `target` is available again (for the log).
struct TargetUp {
  std::size_t target;
  UpReason why;
  unsigned in_a_row;  ///< probes_passed: the passing probes (rise) that brought it back; else 0
};
using PoolAction = std::variant<ProbeTarget, TargetDown, TargetUp>;

class TargetPool {
 public:
  /// `random` must outlive the pool. First probes are spread over one
  /// interval from `now` (HAProxy's spread-checks idea), not all at once.
  TargetPool(PoolSettings settings, sdk::RandomSource& random, sdk::TimePoint now);

  /// The target for a new stream, or nullopt when none is available. Never
  /// returns `avoid` (a target that just failed this stream) nor an
  /// unavailable target. The pick counts as a connection of that target
  /// until handle_connect_failed or handle_closed.
  std::optional<std::size_t> pick(sdk::TimePoint now, std::optional<std::size_t> avoid = std::nullopt);
  /// The connect to a picked target succeeded: its failure streak ends.
  void handle_connected(std::size_t target);
  /// The connect to a picked target failed (refused, timed out): one
  /// connection less, and one more consecutive failure (may eject).
  void handle_connect_failed(sdk::TimePoint now, std::size_t target);
  /// A connected stream of `target` ended: one connection less.
  void handle_closed(std::size_t target);

  /// The result of the probe a ProbeTarget asked for. Ignored when no probe
  /// of `target` is in flight.
  void handle_probe_result(sdk::TimePoint now, std::size_t target, bool ok);

  /// Next action: state changes first, then probes due at `now`.
  std::optional<PoolAction> poll_action(sdk::TimePoint now);
  /// When poll_action next has something to do (a probe or an ejection's
  /// end); nullopt when nothing is scheduled.
  std::optional<sdk::TimePoint> next_timeout() const;

  bool available(std::size_t target, sdk::TimePoint now) const;
  /// Up by active checks (always true with active checks off).
  bool up(std::size_t target) const { return targets_[target].up; }
  /// Picked and not yet failed or closed.
  std::uint64_t connections(std::size_t target) const { return targets_[target].connections; }
  std::size_t size() const { return targets_.size(); }
  const PoolSettings& settings() const { return settings_; }

 private:
  struct Target {
    bool up = true;
    unsigned passes = 0;    ///< consecutive passing probes
    unsigned failures = 0;  ///< consecutive failing probes
    unsigned connect_failures = 0;
    std::optional<sdk::TimePoint> ejected_until;  ///< only with active checks off
    bool probing = false;
    sdk::TimePoint next_probe{};
    std::uint64_t connections = 0;
  };

  std::size_t choose(const std::vector<std::size_t>& candidates);
  void eject(sdk::TimePoint now, std::size_t target);

  PoolSettings settings_;
  sdk::RandomSource& random_;
  std::vector<Target> targets_;
  std::size_t cursor_ = 0;  ///< round robin: the index after the last pick
  std::deque<PoolAction> events_;
};

}  // namespace warren::group

#include "plugins/group/target_pool.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace warren::group {

TargetPool::TargetPool(PoolSettings settings, sdk::RandomSource& random, sdk::TimePoint now)
    : settings_(settings), random_(random), targets_(settings.targets) {
  if (settings_.targets == 0) throw std::invalid_argument("a target pool needs at least one target");
  if (settings_.rise == 0 || settings_.fall == 0) throw std::invalid_argument("rise and fall must be at least 1");
  if (settings_.active_checks && settings_.interval <= sdk::Duration::zero())
    throw std::invalid_argument("the probe interval must be positive");
  // Spread: target i is first probed i/n of an interval from now.
  auto n = static_cast<std::int64_t>(targets_.size());
  for (std::size_t i = 0; i < targets_.size(); ++i)
    targets_[i].next_probe = now + settings_.interval * static_cast<std::int64_t>(i) / n;
}

bool TargetPool::available(std::size_t target, sdk::TimePoint now) const {
  const Target& t = targets_.at(target);
  return t.up && !(t.ejected_until && now < *t.ejected_until);
}

std::optional<std::size_t> TargetPool::pick(sdk::TimePoint now, std::optional<std::size_t> avoid) {
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < targets_.size(); ++i)
    if (i != avoid && available(i, now)) candidates.push_back(i);
  if (candidates.empty()) return std::nullopt;
  std::size_t chosen = choose(candidates);
  ++targets_[chosen].connections;
  return chosen;
}

std::size_t TargetPool::choose(const std::vector<std::size_t>& candidates) {
  // Round robin: the first candidate at or after the cursor, cyclically, so
  // a target that drops out or comes back does not reset the rotation.
  auto next_from_cursor = [&](const std::vector<std::size_t>& among) {
    for (std::size_t i : among)
      if (i >= cursor_) return i;
    return among.front();
  };
  std::size_t chosen = candidates.front();
  switch (settings_.balance) {
    case Balance::random:
      chosen = candidates[static_cast<std::size_t>(random_.uniform01() * static_cast<double>(candidates.size()))];
      break;
    case Balance::round_robin:
      chosen = next_from_cursor(candidates);
      break;
    case Balance::least_connections: {
      // HAProxy's leastconn: the fewest connections; round robin among ties.
      std::uint64_t least = std::numeric_limits<std::uint64_t>::max();
      for (std::size_t i : candidates) least = std::min(least, targets_[i].connections);
      std::vector<std::size_t> tied;
      for (std::size_t i : candidates)
        if (targets_[i].connections == least) tied.push_back(i);
      chosen = next_from_cursor(tied);
      break;
    }
  }
  cursor_ = (chosen + 1) % targets_.size();
  return chosen;
}

void TargetPool::handle_connected(std::size_t target) { targets_.at(target).connect_failures = 0; }

void TargetPool::handle_connect_failed(sdk::TimePoint now, std::size_t target) {
  Target& t = targets_.at(target);
  if (t.connections > 0) --t.connections;
  ++t.connect_failures;
  if (settings_.max_connect_failures > 0 && t.connect_failures >= settings_.max_connect_failures &&
      available(target, now))
    eject(now, target);
}

void TargetPool::handle_closed(std::size_t target) {
  Target& t = targets_.at(target);
  if (t.connections > 0) --t.connections;
}

void TargetPool::eject(sdk::TimePoint now, std::size_t target) {
  Target& t = targets_[target];
  unsigned failed = t.connect_failures;
  t.connect_failures = 0;
  if (settings_.active_checks) {
    // Down as if `fall` probes had failed: only `rise` passes bring it back.
    t.up = false;
    t.passes = 0;
    t.failures = settings_.fall;
  } else {
    t.ejected_until = now + settings_.ejection_time;
  }
  events_.push_back(TargetDown{target, DownReason::connect_failures, failed});
}

void TargetPool::handle_probe_result(sdk::TimePoint now, std::size_t target, bool ok) {
  (void)now;
  Target& t = targets_.at(target);
  if (!t.probing) return;
  t.probing = false;
  if (ok) {
    t.failures = 0;
    ++t.passes;
    if (!t.up && t.passes >= settings_.rise) {
      t.up = true;
      t.connect_failures = 0;
      events_.push_back(TargetUp{target, UpReason::probes_passed, t.passes});
    }
  } else {
    t.passes = 0;
    ++t.failures;
    if (t.up && t.failures >= settings_.fall) {
      t.up = false;
      events_.push_back(TargetDown{target, DownReason::probes_failed, t.failures});
    }
  }
}

std::optional<PoolAction> TargetPool::poll_action(sdk::TimePoint now) {
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    Target& t = targets_[i];
    if (t.ejected_until && now >= *t.ejected_until) {
      t.ejected_until.reset();
      events_.push_back(TargetUp{i, UpReason::ejection_ended, 0});
    }
  }
  if (!events_.empty()) {
    PoolAction action = events_.front();
    events_.pop_front();
    return action;
  }
  if (!settings_.active_checks) return std::nullopt;
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    Target& t = targets_[i];
    if (t.probing || now < t.next_probe) continue;
    t.probing = true;
    // From this start, not the result: the cadence stays `interval` as long
    // as a probe's timeout is no longer than the interval (check enforces it).
    t.next_probe += settings_.interval;
    if (t.next_probe <= now) t.next_probe = now + settings_.interval;  // the shell woke late: no burst
    return ProbeTarget{i};
  }
  return std::nullopt;
}

std::optional<sdk::TimePoint> TargetPool::next_timeout() const {
  std::optional<sdk::TimePoint> next;
  auto consider = [&](sdk::TimePoint at) {
    if (!next || at < *next) next = at;
  };
  for (const Target& t : targets_) {
    if (t.ejected_until) consider(*t.ejected_until);
    if (settings_.active_checks && !t.probing) consider(t.next_probe);
  }
  return next;
}

}  // namespace warren::group

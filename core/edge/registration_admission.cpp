#include "core/edge/registration_admission.hpp"

#include <algorithm>
#include <cmath>

namespace warren::core {

namespace {

using Seconds = std::chrono::duration<double>;

std::string seconds_text(sdk::Duration d) {
  auto tenths = std::chrono::duration_cast<std::chrono::milliseconds>(d).count() / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

}  // namespace

std::string_view throttle_name(RegistrationThrottle reason) {
  switch (reason) {
    case RegistrationThrottle::none: return "none";
    case RegistrationThrottle::source_rate: return "source_rate";
    case RegistrationThrottle::tunnel_rate: return "tunnel_rate";
    case RegistrationThrottle::source_auth_failures: return "source_auth_failures";
    case RegistrationThrottle::tunnel_auth_failures: return "tunnel_auth_failures";
  }
  return "unknown";
}

std::string throttle_sentence(RegistrationThrottle reason, const RegistrationLimits& limits) {
  auto n = [](std::uint32_t v) { return std::to_string(v); };
  switch (reason) {
    case RegistrationThrottle::none: return "admitted";
    case RegistrationThrottle::source_rate:
      return "this source registers faster than " + n(limits.rate_per_source) +
             "/s (registration_rate_per_source, burst " + n(limits.burst_per_source) + ")";
    case RegistrationThrottle::tunnel_rate:
      return "this tunnel's connectors register faster than " + n(limits.rate_per_tunnel) +
             "/s (registration_rate_per_tunnel, burst " + n(limits.burst_per_tunnel) + ")";
    case RegistrationThrottle::source_auth_failures:
      return "this source presented wrong credentials more than " + n(limits.auth_failures_per_source) +
             " times; one more try every " + seconds_text(limits.auth_failure_interval) +
             " (auth_failures_per_source, auth_failure_interval)";
    case RegistrationThrottle::tunnel_auth_failures:
      return "this tunnel id saw more than " + n(limits.auth_failures_per_tunnel) +
             " wrong credentials, and this source presented some (auth_failures_per_tunnel)";
  }
  return "unknown reason";
}

bool RegistrationAdmission::Bucket::refill(sdk::TimePoint now, double per_second, double size) {
  if (now > refilled) {
    tokens = std::min(size, tokens + Seconds(now - refilled).count() * per_second);
    refilled = now;
  }
  return tokens >= size;
}

sdk::Duration RegistrationAdmission::Bucket::wait(double per_second) const {
  if (tokens >= 1 || per_second <= 0) return sdk::Duration::zero();
  return std::chrono::ceil<sdk::Duration>(Seconds((1 - tokens) / per_second));
}

double RegistrationAdmission::failure_rate_per_source() const {
  return 1.0 / std::max(Seconds(limits_.auth_failure_interval).count(), 1e-3);
}

double RegistrationAdmission::failure_rate_per_tunnel() const {
  return 1.0 / std::max(Seconds(limits_.auth_failure_interval_per_tunnel).count(), 1e-3);
}

RegistrationAdmission::Source& RegistrationAdmission::source_at(const SourceKey& key, sdk::TimePoint now) {
  auto [it, fresh] = sources_.try_emplace(key);
  if (fresh)
    it->second = Source{{double(limits_.burst_per_source), now}, {double(limits_.auth_failures_per_source), now}};
  return it->second;
}

RegistrationAdmission::Tunnel& RegistrationAdmission::tunnel_at(const std::string& id, sdk::TimePoint now) {
  auto [it, fresh] = tunnels_.try_emplace(id);
  if (fresh)
    it->second = Tunnel{{double(limits_.burst_per_tunnel), now}, {double(limits_.auth_failures_per_tunnel), now}};
  return it->second;
}

RegistrationDecision RegistrationAdmission::check(const SourceKey& key, const std::string& tunnel_id,
                                                  sdk::TimePoint now) {
  sweep(now);
  auto& source = source_at(key, now);
  source.attempts.refill(now, limits_.rate_per_source, limits_.burst_per_source);
  if (source.attempts.tokens < 1)
    return refuse(source, RegistrationThrottle::source_rate, source.attempts.wait(limits_.rate_per_source), now);
  source.attempts.tokens -= 1;

  bool clean = source.failures.refill(now, failure_rate_per_source(), limits_.auth_failures_per_source);
  if (source.failures.tokens < 1)
    return refuse(source, RegistrationThrottle::source_auth_failures, source.failures.wait(failure_rate_per_source()),
                  now);
  // Tunnel ids are looked up, never added here: an id nobody registered
  // with costs no memory however many a guesser makes up.
  if (auto it = tunnels_.find(tunnel_id); it != tunnels_.end()) {
    auto& tunnel = it->second;
    tunnel.registrations.refill(now, limits_.rate_per_tunnel, limits_.burst_per_tunnel);
    tunnel.failures.refill(now, failure_rate_per_tunnel(), limits_.auth_failures_per_tunnel);
    if (!clean && tunnel.failures.tokens < 1)
      return refuse(
          source, RegistrationThrottle::tunnel_auth_failures,
          std::max(tunnel.failures.wait(failure_rate_per_tunnel()), source.failures.wait(failure_rate_per_source())),
          now);
    if (tunnel.registrations.tokens < 1)
      return refuse(source, RegistrationThrottle::tunnel_rate, tunnel.registrations.wait(limits_.rate_per_tunnel), now);
  }
  return {};
}

void RegistrationAdmission::authenticated(const std::string& tunnel_id, sdk::TimePoint now) {
  auto& tunnel = tunnel_at(tunnel_id, now);
  tunnel.registrations.refill(now, limits_.rate_per_tunnel, limits_.burst_per_tunnel);
  tunnel.registrations.tokens = std::max(0.0, tunnel.registrations.tokens - 1);
}

SourceLogDecision RegistrationAdmission::failed(const SourceKey& key, const std::string& tunnel_id,
                                                sdk::TimePoint now) {
  auto& source = source_at(key, now);
  source.failures.refill(now, failure_rate_per_source(), limits_.auth_failures_per_source);
  source.failures.tokens = std::max(0.0, source.failures.tokens - 1);
  auto& tunnel = tunnel_at(tunnel_id, now);
  tunnel.failures.refill(now, failure_rate_per_tunnel(), limits_.auth_failures_per_tunnel);
  tunnel.failures.tokens = std::max(0.0, tunnel.failures.tokens - 1);
  ++source.failed;
  return note(source, now);
}

SourceLogDecision RegistrationAdmission::note(Source& source, sdk::TimePoint now) {
  if (source.logged && now - *source.logged < limits_.log_interval) return {};
  SourceLogDecision line{true, source.throttled, source.failed};
  source.throttled = 0;
  source.failed = 0;
  source.logged = now;
  return line;
}

RegistrationDecision RegistrationAdmission::refuse(Source& source, RegistrationThrottle reason, sdk::Duration wait,
                                                   sdk::TimePoint now) {
  ++source.throttled;
  return {reason, std::max<sdk::Duration>(wait, std::chrono::seconds(1)), note(source, now)};
}

void RegistrationAdmission::sweep(sdk::TimePoint now) {
  // Once a second: forget entries whose buckets are full again and whose
  // log interval is over (nothing owed, nothing remembered against them).
  if (now - last_sweep_ < std::chrono::seconds(1)) return;
  last_sweep_ = now;
  for (auto it = sources_.begin(); it != sources_.end();) {
    auto& s = it->second;
    bool full = s.attempts.refill(now, limits_.rate_per_source, limits_.burst_per_source) &&
                s.failures.refill(now, failure_rate_per_source(), limits_.auth_failures_per_source);
    bool quiet = !s.logged || now - *s.logged >= limits_.log_interval;
    if (full && quiet)
      it = sources_.erase(it);
    else
      ++it;
  }
  for (auto it = tunnels_.begin(); it != tunnels_.end();) {
    auto& t = it->second;
    bool full = t.registrations.refill(now, limits_.rate_per_tunnel, limits_.burst_per_tunnel) &&
                t.failures.refill(now, failure_rate_per_tunnel(), limits_.auth_failures_per_tunnel);
    if (full)
      it = tunnels_.erase(it);
    else
      ++it;
  }
}

}  // namespace warren::core

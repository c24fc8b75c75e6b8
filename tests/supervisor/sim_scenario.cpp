// Drawing one simulated run's shape from its seed.

#include "sim_world.hpp"

#include <sstream>

namespace warren::core::supervisor::test {
namespace {

using namespace std::chrono_literals;

sdk::Duration between(sdk::RandomSource& r, sdk::Duration lo, sdk::Duration hi) {
  return lo + sdk::Duration(static_cast<sdk::Duration::rep>(r.uniform01() * static_cast<double>((hi - lo).count())));
}

template <typename T, std::size_t N>
T one_of(sdk::RandomSource& r, const T (&items)[N]) {
  return items[r.next_u64() % N];
}

}  // namespace

SimScenario SimScenario::draw(sdk::RandomSource& r) {
  SimScenario s;
  auto& c = s.config;
  c.ha_connections = 1 + static_cast<unsigned>(r.next_u64() % 4);
  c.transport_count = 1 + r.next_u64() % 3;
  s.edge_count = 1 + r.next_u64() % 6;
  static constexpr sdk::Duration staggers[] = {0ms, 200ms, 1s, 2s};
  c.stagger = one_of(r, staggers);
  if (r.uniform01() < 0.5) {
    c.heartbeat_interval = 500ms;  // bore's numbers
    c.heartbeat_timeout = 8s;
  } else {
    c.heartbeat_interval = between(r, 100ms, 2s);
    c.heartbeat_timeout = c.heartbeat_interval * static_cast<int>(3 + r.next_u64() % 14);
  }
  c.connect_timeout = between(r, 2s, 15s);
  s.fallback.max_failures = 1 + static_cast<std::uint32_t>(r.next_u64() % 4);
  c.grace_period = between(r, 0s, 30s);
  c.return_drain = between(r, 0s, 60s);
  c.address_refresh = between(r, 10s, 5min);
  c.max_retry_after = between(r, 5s, 60s);
  c.no_reconnect = r.uniform01() < 0.1;

  s.quic_blocked = r.uniform01() < 0.2;
  s.auth_fails = r.uniform01() < 0.04;
  s.custom_address_policy = r.uniform01() < 0.15;
  s.ack_loss = r.uniform01() < 0.5 ? 0.0 : r.uniform(0.0, 0.3);
  s.reject_rate = r.uniform(0.0, 0.2);
  s.resolve_failure_rate = r.uniform(0.0, 0.3);
  if (r.uniform01() < 0.3) s.edge_interval = between(r, 200ms, 3s);
  if (r.uniform01() < 0.7) s.shutdown_at = between(r, 1s, 40s);
  s.backoff_base = between(r, 50ms, 1s);
  s.backoff_cap = between(r, 2s, 30s);
  s.backoff_give_up = r.uniform01() < 0.3 ? 3 + static_cast<std::uint32_t>(r.next_u64() % 18) : 0;
  s.rotation.max_edge_addr_retries = 1 + static_cast<std::uint32_t>(r.next_u64() % 8);
  s.rotation.give_back_after = between(r, 0s, 2min);
  s.replicas = r.uniform01() < 0.4 ? 2 : 1;
  s.dns_changes = r.uniform01() < 0.6;
  s.dead_edge_unreachable = r.uniform01() < 0.5 ? 0.0 : r.uniform(0.2, 1.0);
  // The return to the preferred transport (drawn last, so the draws above
  // stay what they were): probes on most runs, and blocked QUIC that heals.
  if (r.uniform01() < 0.7) s.fallback.probe_interval = between(r, 1s, 20s);
  if (s.quic_blocked && r.uniform01() < 0.6) s.quic_heals_at = between(r, 2s, 40s);
  return s;
}

std::string SimScenario::describe() const {
  std::ostringstream out;
  auto ms = [](sdk::Duration d) { return sdk::format_duration(d); };
  out << "legs=" << config.ha_connections << " transports=" << config.transport_count << " edges=" << edge_count
      << " stagger=" << ms(config.stagger) << " heartbeat=" << ms(config.heartbeat_interval) << "/"
      << ms(config.heartbeat_timeout) << " connect_timeout=" << ms(config.connect_timeout)
      << " max_failures=" << fallback.max_failures << " grace=" << ms(config.grace_period)
      << " no_reconnect=" << config.no_reconnect << " quic_blocked=" << quic_blocked
      << " quic_heals_at=" << (quic_heals_at ? ms(*quic_heals_at) : std::string("never"))
      << " probe_interval=" << ms(fallback.probe_interval) << " auth_fails=" << auth_fails
      << " custom_address_policy=" << custom_address_policy
      << " max_edge_addr_retries=" << rotation.max_edge_addr_retries
      << " give_back_after=" << ms(rotation.give_back_after) << " ack_loss=" << ack_loss
      << " reject_rate=" << reject_rate << " resolve_failure_rate=" << resolve_failure_rate
      << " edge_interval=" << ms(edge_interval) << " shutdown_at=" << (shutdown_at ? ms(*shutdown_at) : "never")
      << " backoff=" << ms(backoff_base) << ".." << ms(backoff_cap) << " give_up=" << backoff_give_up
      << " replicas=" << replicas << " dns_changes=" << dns_changes
      << " dead_edge_unreachable=" << dead_edge_unreachable;
  return out.str();
}

}  // namespace warren::core::supervisor::test

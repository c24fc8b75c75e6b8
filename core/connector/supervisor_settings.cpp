#include "core/connector/supervisor_settings.hpp"

namespace warren::core {

using namespace supervisor;

namespace {

// How old the supervisor's address list may be when a leg starts an attempt
// before discovery is asked again. Freshness belongs to the discovery plugin
// (dns-srv keeps an answer for its TTL, clamped to [min_ttl, max_ttl];
// static never changes), so asking costs a cache lookup while the answer is
// fresh, and a moved or replaced edge is found once its TTL is over instead
// of after the supervisor's own default of minutes. The second only spares
// the plugin a call per attempt when legs retry fast.
constexpr Duration kAddressRefresh = std::chrono::seconds(1);

}  // namespace

SupervisorConfig supervisor_config(const ConnectorConfig& c, bool no_reconnect) {
  SupervisorConfig s;
  s.address_refresh = kAddressRefresh;
  s.ha_connections = c.tunnel.ha_connections;
  s.stagger = c.tunnel.stagger;
  s.transport_count = c.transports.size();
  s.grace_period = c.tunnel.grace_period;
  s.no_reconnect = no_reconnect;
  return s;
}

}  // namespace warren::core

// Registration of the `dns-srv` discovery plugin: config in, discovery out.

#include "discovery/dns-srv/dns_srv_discovery.hpp"

#include <warren/sdk/plugin.hpp>

#include <random>

namespace warren::dns_srv {
namespace {

std::unique_ptr<sdk::Discovery> make(const DnsSrvConfig& config, sdk::PluginContext& context) {
  // Each connector draws its own order, so equal-priority edges share the load.
  std::random_device device;
  auto seed = (std::uint64_t{device()} << 32) | device();
  return std::make_unique<DnsSrvDiscovery>(config, context, std::make_unique<sdk::SeededRandom>(seed));
}

}  // namespace
}  // namespace warren::dns_srv

WARREN_TYPED_PLUGIN("dns-srv", "1.0.0", "edges from DNS SRV records (c-ares): regions, RFC 2782 order, TTL, stale",
                    warren::dns_srv::dns_srv_schema, warren::dns_srv::make)

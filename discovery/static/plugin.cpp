// Registration of the `static` discovery plugin.

#include "discovery/static/static_discovery.hpp"

#include <warren/sdk/plugin.hpp>

namespace warren::static_discovery {
namespace {

std::unique_ptr<sdk::Discovery> make(const StaticDiscoveryConfig& config, sdk::PluginContext& context) {
  return std::make_unique<StaticDiscovery>(config, context);
}

}  // namespace
}  // namespace warren::static_discovery

WARREN_TYPED_PLUGIN("static", "1.0.0", "a fixed list of edges, host:port, resolved on each use",
                    warren::static_discovery::static_discovery_schema, warren::static_discovery::make)

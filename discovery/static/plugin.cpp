// Registration of the `static` discovery plugin.

#include "discovery/static/static_discovery.hpp"

#include <warren/sdk/plugin.hpp>

namespace warren::static_discovery {
namespace {

std::unique_ptr<sdk::Discovery> make(const sdk::ConfigTable& table, sdk::PluginContext& context,
                                     sdk::Diagnostics& diagnostics) {
  auto config = read_static_discovery_config(table, diagnostics);
  if (!config) return nullptr;
  return std::make_unique<StaticDiscovery>(std::move(*config), context);
}

}  // namespace
}  // namespace warren::static_discovery

WARREN_PLUGIN("static", "1.0.0", "a fixed list of edges, host:port, resolved on each use", warren::static_discovery::make)

#pragma once
// The `static` discovery: an explicit list of edges, in order of preference.
// Names are resolved at each resolve() so a changed DNS record is picked up
// on reconnect.

#include <warren/sdk/config_schema.hpp>
#include <warren/sdk/discovery.hpp>
#include <warren/sdk/endpoint.hpp>

#include <vector>

namespace warren::static_discovery {

struct StaticDiscoveryConfig {
  std::vector<sdk::Endpoint> edges;
};

/// The one key, `edges`: required, at least one, no address twice.
const sdk::ConfigSchema<StaticDiscoveryConfig>& static_discovery_schema();

class StaticDiscovery final : public sdk::Discovery {
 public:
  StaticDiscovery(StaticDiscoveryConfig config, sdk::PluginContext& context)
      : config_(std::move(config)), context_(context) {}

 private:
  void async_resolve_impl(sdk::ResolveHandler handler) override;

  StaticDiscoveryConfig config_;
  sdk::PluginContext& context_;
};

}  // namespace warren::static_discovery

#pragma once
// The `static` discovery: an explicit list of edges, in order of preference.
// Names are resolved at each resolve() so a changed DNS record is picked up
// on reconnect.

#include <warren/sdk/config.hpp>
#include <warren/sdk/discovery.hpp>
#include <warren/sdk/endpoint.hpp>

#include <optional>
#include <vector>

namespace warren::static_discovery {

struct StaticDiscoveryConfig {
  std::vector<sdk::Endpoint> edges;
};

std::optional<StaticDiscoveryConfig> read_static_discovery_config(const sdk::ConfigTable& table,
                                                                  sdk::Diagnostics& diagnostics);

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

// Registration of the `group` backend plugin.

#include "plugins/group/group_backend.hpp"

#include <warren/sdk/plugin.hpp>

namespace warren::group {
namespace {

std::unique_ptr<sdk::Backend> make(const GroupConfig& config, sdk::PluginContext& context) {
  return std::make_unique<GroupBackend>(config, context);
}

}  // namespace
}  // namespace warren::group

WARREN_TYPED_PLUGIN("group", "1.0.0",
                    "deliver streams to one of several TCP services: balanced, health-checked, with passive ejection",
                    warren::group::group_schema, warren::group::make)

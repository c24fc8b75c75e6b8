// Registration of the `group` backend plugin.
//
// The descriptor is written out rather than made by WARREN_TYPED_PLUGIN:
// that macro reads the table with the schema alone, and the group reads it
// with read_group_config (the schema plus other proxies' spellings of
// `balance`). The schema still describes the keys, as the macro would.

#include "plugins/group/group_backend.hpp"

#include <warren/sdk/plugin.hpp>

namespace warren::group {
namespace {

std::unique_ptr<sdk::Backend> make(const sdk::ConfigTable& table, sdk::PluginContext& context,
                                   sdk::Diagnostics& diagnostics) {
  auto config = read_group_config(table, diagnostics);
  if (!config) return nullptr;
  return std::make_unique<GroupBackend>(std::move(*config), context);
}

}  // namespace
}  // namespace warren::group

extern "C" BOOST_SYMBOL_EXPORT const ::warren::sdk::PluginDescriptor warren_plugin = {
    ::warren::sdk::plugin_magic,
    WARREN_ABI_MAJOR,
    WARREN_ABI_MINOR,
    WARREN_BUILD_FINGERPRINT,
    ::warren::sdk::detail::kind_of(&warren::group::make),
    "group",
    "1.0.0",
    "deliver streams to one of several TCP services: balanced, health-checked, with passive ejection",
    &::warren::sdk::detail::create_thunk<&warren::group::make>,
    &::warren::sdk::detail::describe_thunk<&warren::group::group_schema>};

#pragma once
// A config table that names a plugin: `plugin = "name"` plus the plugin's own
// keys. Core takes out the keys it reads itself and hands the rest on.

#include <warren/sdk/config.hpp>

#include <optional>
#include <string>
#include <vector>

namespace warren::core {

struct PluginSection {
  std::string plugin;                ///< the plugin's name
  sdk::SourceLocation plugin_where;  ///< where `plugin = …` is written
  sdk::ConfigTable table;            ///< the plugin's own keys only
};

/// Reads `value` (which must be a table with a string `plugin`), removing
/// `plugin` and every key in `core_keys` from the table passed on.
std::optional<PluginSection> read_plugin_section(const sdk::ConfigValue& value, const std::string& path,
                                                 sdk::Diagnostics& diagnostics,
                                                 const std::vector<std::string>& core_keys = {});

/// Reads an array of tables (`[[transport]]`): one PluginSection each.
std::vector<PluginSection> read_plugin_sections(const sdk::ConfigValue& value, const std::string& path,
                                                sdk::Diagnostics& diagnostics,
                                                const std::vector<std::string>& core_keys = {});

/// The table inside `value`, or a diagnostic saying `[path]` must be a table.
const sdk::ConfigTable* as_table(const sdk::ConfigValue& value, const std::string& path,
                                 sdk::Diagnostics& diagnostics);

}  // namespace warren::core

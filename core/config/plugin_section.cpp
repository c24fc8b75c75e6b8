#include "core/config/plugin_section.hpp"

#include <warren/sdk/config_reader.hpp>

#include <algorithm>

namespace warren::core {

sdk::ConfigSchema<PluginChoiceKeys> plugin_choice_schema(std::string summary, const std::string& kind) {
  return sdk::ConfigSchema<PluginChoiceKeys>(std::move(summary))
      .string("plugin", &PluginChoiceKeys::plugin, "the " + kind + " plugin to use, by name (see Plugins)");
}

const sdk::ConfigTable* as_table(const sdk::ConfigValue& value, const std::string& path,
                                 sdk::Diagnostics& diagnostics) {
  if (auto* table = std::get_if<sdk::ConfigTable>(&value.value)) return table;
  diagnostics.error(value.where, "'" + path + "' must be a table ([" + path + "]), not " + sdk::a_type_name(value));
  return nullptr;
}

namespace detail {

bool plugin_key_is_not_a_name(const sdk::ConfigTable& table, sdk::Diagnostics& diagnostics) {
  const sdk::ConfigValue* plugin = table.find("plugin");
  if (!plugin || std::holds_alternative<std::string>(plugin->value)) return false;
  diagnostics.error(plugin->where, "'plugin' must be a plugin name (a non-empty string)");
  return true;
}

std::optional<PluginSection> to_plugin_section(const sdk::ConfigTable& table, const std::optional<std::string>& plugin,
                                               const std::string& path, const std::vector<sdk::KeySpec>& core_keys,
                                               sdk::Diagnostics& diagnostics) {
  if (!plugin) {
    diagnostics.error(table.where, "[" + path + "] needs a 'plugin' key naming the plugin to use");
    return std::nullopt;
  }
  const sdk::ConfigValue* where = table.find("plugin");
  if (plugin->empty()) {
    diagnostics.error(where->where, "'plugin' must be a plugin name (a non-empty string)");
    return std::nullopt;
  }
  PluginSection section{*plugin, where->where, table};
  std::erase_if(section.table.entries, [&](const sdk::ConfigEntry& e) {
    return std::any_of(core_keys.begin(), core_keys.end(), [&](const sdk::KeySpec& k) { return k.name == e.key; });
  });
  return section;
}

}  // namespace detail

std::vector<PluginSection> read_plugin_sections(const sdk::ConfigValue& value, const std::string& path,
                                                const sdk::ConfigSchema<PluginChoiceKeys>& schema,
                                                sdk::Diagnostics& diagnostics) {
  std::vector<PluginSection> sections;
  auto* array = std::get_if<sdk::ConfigValue::Array>(&value.value);
  if (!array) {
    diagnostics.error(value.where,
                      "'" + path + "' must be an array of tables ([[" + path + "]]), not " + sdk::a_type_name(value));
    return sections;
  }
  for (const auto& item : *array)
    if (auto section = read_plugin_section(item, path, schema, diagnostics))
      sections.push_back(std::move(section->first));
  return sections;
}

}  // namespace warren::core

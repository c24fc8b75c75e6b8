#include "core/config/plugin_section.hpp"

#include <warren/sdk/config_reader.hpp>

#include <algorithm>

namespace warren::core {

const sdk::ConfigTable* as_table(const sdk::ConfigValue& value, const std::string& path,
                                 sdk::Diagnostics& diagnostics) {
  if (auto* table = std::get_if<sdk::ConfigTable>(&value.value)) return table;
  diagnostics.error(value.where, "'" + path + "' must be a table ([" + path + "]), not " + sdk::a_type_name(value));
  return nullptr;
}

std::optional<PluginSection> read_plugin_section(const sdk::ConfigValue& value, const std::string& path,
                                                 sdk::Diagnostics& diagnostics,
                                                 const std::vector<std::string>& core_keys) {
  const sdk::ConfigTable* table = as_table(value, path, diagnostics);
  if (!table) return std::nullopt;
  const sdk::ConfigValue* plugin = table->find("plugin");
  if (!plugin) {
    diagnostics.error(table->where, "[" + path + "] needs a 'plugin' key naming the plugin to use");
    return std::nullopt;
  }
  auto* name = std::get_if<std::string>(&plugin->value);
  if (!name || name->empty()) {
    diagnostics.error(plugin->where, "'plugin' must be a plugin name (a non-empty string)");
    return std::nullopt;
  }
  PluginSection section{*name, plugin->where, *table};
  std::erase_if(section.table.entries, [&](const sdk::ConfigEntry& e) {
    return e.key == "plugin" || std::find(core_keys.begin(), core_keys.end(), e.key) != core_keys.end();
  });
  return section;
}

std::vector<PluginSection> read_plugin_sections(const sdk::ConfigValue& value, const std::string& path,
                                                sdk::Diagnostics& diagnostics,
                                                const std::vector<std::string>& core_keys) {
  std::vector<PluginSection> sections;
  auto* array = std::get_if<sdk::ConfigValue::Array>(&value.value);
  if (!array) {
    diagnostics.error(value.where, "'" + path + "' must be an array of tables ([[" + path + "]]), not " +
                                       sdk::a_type_name(value));
    return sections;
  }
  for (const auto& item : *array)
    if (auto section = read_plugin_section(item, path, diagnostics, core_keys)) sections.push_back(std::move(*section));
  return sections;
}

}  // namespace warren::core

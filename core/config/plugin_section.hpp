#pragma once
// A config table that names a plugin: `plugin = "name"` plus the plugin's own
// keys. Core reads its own keys (`plugin`, and e.g. [[listen]]'s `address`)
// through a schema that declares them, and hands the rest to the plugin.

#include <warren/sdk/config.hpp>
#include <warren/sdk/config_schema.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace warren::core {

struct PluginSection {
  std::string plugin;                ///< the plugin's name
  sdk::SourceLocation plugin_where;  ///< where `plugin = …` is written
  sdk::ConfigTable table;            ///< the plugin's own keys only
};

/// Core's raw key in a section that names a plugin. Optional in the schema so
/// that a missing `plugin` gets the section's own sentence, not the generic one.
struct PluginChoiceKeys {
  std::optional<std::string> plugin;
};

/// The `plugin` key of a section whose plugins are of `kind` ("backend" …).
sdk::ConfigSchema<PluginChoiceKeys> plugin_choice_schema(std::string summary, const std::string& kind);

/// The table inside `value`, or a diagnostic saying `[path]` must be a table.
const sdk::ConfigTable* as_table(const sdk::ConfigValue& value, const std::string& path, sdk::Diagnostics& diagnostics);

/// `table` with only the keys `schema` declares: core's part of a plugin section.
template <typename Keys>
sdk::ConfigTable core_part(const sdk::ConfigTable& table, const sdk::ConfigSchema<Keys>& schema) {
  sdk::ConfigTable out{{}, table.where, table.path};
  for (const auto& spec : schema.keys())
    for (const auto& entry : table.entries)
      if (entry.key == spec.name) out.entries.push_back(entry);
  return out;
}

namespace detail {
/// Checks `plugin` was read and names a plugin; builds the section with the
/// table minus `core_keys`. Nullopt after a diagnostic.
std::optional<PluginSection> to_plugin_section(const sdk::ConfigTable& table, const std::optional<std::string>& plugin,
                                               const std::string& path, const std::vector<sdk::KeySpec>& core_keys,
                                               sdk::Diagnostics& diagnostics);
/// A `plugin` key that is not a string: the section's own sentence for it.
bool plugin_key_is_not_a_name(const sdk::ConfigTable& table, sdk::Diagnostics& diagnostics);
}  // namespace detail

/// Reads `value`, a table naming a plugin, with `schema` for core's keys
/// (`Keys` has `std::optional<std::string> plugin`); every other key is the
/// plugin's. Returns the section and core's keys, or nullopt after diagnostics.
template <typename Keys>
std::optional<std::pair<PluginSection, Keys>> read_plugin_section(const sdk::ConfigValue& value,
                                                                  const std::string& path,
                                                                  const sdk::ConfigSchema<Keys>& schema,
                                                                  sdk::Diagnostics& diagnostics) {
  const sdk::ConfigTable* table = as_table(value, path, diagnostics);
  if (!table || detail::plugin_key_is_not_a_name(*table, diagnostics)) return std::nullopt;
  auto keys = schema.read(core_part(*table, schema), diagnostics);
  if (!keys) return std::nullopt;
  auto section = detail::to_plugin_section(*table, keys->plugin, path, schema.keys(), diagnostics);
  if (!section) return std::nullopt;
  return std::pair{std::move(*section), std::move(*keys)};
}

/// Reads an array of tables (`[[transport]]`): one PluginSection each.
std::vector<PluginSection> read_plugin_sections(const sdk::ConfigValue& value, const std::string& path,
                                                const sdk::ConfigSchema<PluginChoiceKeys>& schema,
                                                sdk::Diagnostics& diagnostics);

}  // namespace warren::core

#include "core/config/config_schemas.hpp"

#include "core/config/connector_schema.hpp"
#include "core/config/edge_schema.hpp"

namespace warren::core {
namespace {

template <typename Keys>
SectionReference section(ConfigFileKind file, std::string path, const sdk::ConfigSchema<Keys>& schema,
                         std::string plugin_kind = {}) {
  SectionReference out{file, std::move(path), schema.summary(), schema.keys(), std::move(plugin_kind)};
  // The schema keeps `plugin` optional only to word its absence itself
  // ("[backend] needs a 'plugin' key …"); it is required all the same.
  for (auto& key : out.keys)
    if (key.name == "plugin" && !out.plugin_kind.empty()) key.required = true;
  return out;
}

}  // namespace

std::vector<SectionReference> config_sections() {
  using enum ConfigFileKind;
  return {
      section(connector, "(top level)", connector_root_schema()),
      section(connector, "[tunnel]", tunnel_schema()),
      section(connector, "[[transport]]", transport_section_schema(), "transport"),
      section(connector, "[discovery]", discovery_section_schema(), "discovery"),
      section(connector, "[backend]", backend_section_schema(), "backend"),
      section(connector, "[[policy]]", policy_section_schema(), "policy"),
      section(connector, "[admin]", connector_admin_schema()),
      section(edge, "(top level)", edge_root_schema()),
      section(edge, "[edge]", edge_schema()),
      section(edge, "[[listen]]", listen_schema(), "transport"),
      section(edge, "[[tunnels]]", tunnel_entry_schema()),
  };
}

}  // namespace warren::core

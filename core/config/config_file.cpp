#include "core/config/config_file.hpp"

#include "core/config/toml_tree.hpp"

#include <initializer_list>

namespace warren::core {
namespace {

/// The first of `sections` present in `root`, or null.
const sdk::ConfigEntry* first_of(const sdk::ConfigTable& root, std::initializer_list<const char*> sections) {
  for (const auto& entry : root.entries)
    for (const char* s : sections)
      if (entry.key == s) return &entry;
  return nullptr;
}

std::string section_text(const sdk::ConfigEntry& entry) {
  bool array = std::holds_alternative<sdk::ConfigValue::Array>(entry.value.value);
  return array ? "[[" + entry.key + "]]" : "[" + entry.key + "]";
}

}  // namespace

AnyConfig read_config_file(const std::filesystem::path& file, sdk::Diagnostics& diagnostics, ConfigKind expected) {
  auto root = read_toml_file(file, diagnostics);
  if (!root) return std::monostate{};
  const auto* edge = first_of(*root, {"edge", "listen", "tunnels"});
  const auto* connector = first_of(*root, {"tunnel", "transport", "discovery", "backend", "policy"});
  const sdk::SourceLocation top{file.string(), 1, 1};
  if (edge && expected == ConfigKind::connector) {
    diagnostics.error(edge->key_where.line ? edge->key_where : top,
                      "this is an edge config (it has " + section_text(*edge) + "); run it with `warren edge --config " +
                          file.string() + "`");
    return std::monostate{};
  }
  if (connector && !edge && expected == ConfigKind::edge) {
    diagnostics.error(connector->key_where.line ? connector->key_where : top,
                      "this is a connector config (it has " + section_text(*connector) +
                          "); run it with `warren connect --config " + file.string() + "`");
    return std::monostate{};
  }
  if (!edge && !connector && root->entries.empty()) {
    std::string needs = expected == ConfigKind::edge        ? "an edge config needs [edge] and [[listen]]"
                        : expected == ConfigKind::connector ? "a connector config needs [tunnel], [[transport]], "
                                                              "[discovery] and [backend]"
                                                            : "write an edge config ([edge], [[listen]]) or a "
                                                              "connector config ([tunnel], [[transport]], …)";
    diagnostics.error({file.string(), 0, 0}, "the file holds no settings; " + needs + " (see examples/configs/)");
    return std::monostate{};
  }
  if (edge || expected == ConfigKind::edge) return read_edge_config(*root, file, diagnostics);
  return read_connector_config(*root, file, diagnostics);
}

}  // namespace warren::core

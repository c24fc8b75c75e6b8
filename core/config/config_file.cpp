#include "core/config/config_file.hpp"

#include "core/config/toml_tree.hpp"

namespace warren::core {

AnyConfig read_config_file(const std::filesystem::path& file, sdk::Diagnostics& diagnostics) {
  auto root = read_toml_file(file, diagnostics);
  if (!root) return std::monostate{};
  if (root->find("edge") || root->find("listen")) return read_edge_config(*root, file, diagnostics);
  return read_connector_config(*root, file, diagnostics);
}

}  // namespace warren::core

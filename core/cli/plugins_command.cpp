#include "core/cli/commands.hpp"
#include "core/plugin/plugin_loader.hpp"
#include "core/plugin/plugin_search_path.hpp"

#include <algorithm>
#include <iostream>

namespace warren::cli {

int run_plugins(const GlobalOptions& global) {
  core::PluginLoader loader(core::plugin_search_path(global.plugin_dirs, {}));
  auto scan = loader.scan();
  std::sort(scan.plugins.begin(), scan.plugins.end(), [](const auto& a, const auto& b) {
    return std::tie(a.kind, a.name) < std::tie(b.kind, b.name);
  });
  for (const auto& p : scan.plugins)
    std::cout << sdk::to_string(p.kind) << " " << p.name << " " << p.version << " " << p.file.string() << "\n";
  for (const auto& r : scan.refused) std::cerr << "warren: refused " << r.file.string() << ": " << r.reason << "\n";
  for (const auto& f : scan.shadowed)
    std::cerr << "warren: ignored " << f.string() << ": a plugin of that kind and name was found earlier\n";
  if (scan.plugins.empty()) {
    std::cerr << "warren: no plugins found in:";
    for (const auto& dir : loader.search_dirs()) std::cerr << "\n    " << dir.string();
    std::cerr << "\n";
  }
  return exit_ok;
}

}  // namespace warren::cli

#include "core/plugin/plugin_search_path.hpp"

#include <boost/dll/runtime_symbol_info.hpp>

#include <cstdlib>
#include <string_view>

namespace warren::core {

std::filesystem::path bundled_plugin_dir() {
  std::error_code ec;
  auto exe = boost::dll::program_location(ec);
  if (ec) return {};
  return (exe.parent_path() / WARREN_PLUGINS_FROM_BIN).lexically_normal();
}

std::vector<std::filesystem::path> plugin_search_path(const std::vector<std::filesystem::path>& flag_dirs,
                                                      const std::vector<std::filesystem::path>& config_dirs) {
  return plugin_search_path(flag_dirs, config_dirs, bundled_plugin_dir());
}

std::vector<std::filesystem::path> plugin_search_path(const std::vector<std::filesystem::path>& flag_dirs,
                                                      const std::vector<std::filesystem::path>& config_dirs,
                                                      const std::filesystem::path& bundled) {
  std::vector<std::filesystem::path> dirs(flag_dirs);
  dirs.insert(dirs.end(), config_dirs.begin(), config_dirs.end());
  if (const char* env = std::getenv("WARREN_PLUGIN_PATH")) {
    std::string_view rest(env);
    while (!rest.empty()) {
      auto colon = rest.find(':');
      auto part = rest.substr(0, colon);
      if (!part.empty()) dirs.emplace_back(part);
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
  }
  if (!bundled.empty()) dirs.push_back(bundled);
  return dirs;
}

}  // namespace warren::core

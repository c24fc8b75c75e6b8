#pragma once
// Where plugins are looked for, in order: --plugin-dir flags, the config's
// plugin_dirs, WARREN_PLUGIN_PATH, then the plugins bundled with this binary
// (found beside it in the build tree and after install, with no flag).

#include <filesystem>
#include <vector>

namespace warren::core {

/// The bundled plugin folder: <dir of the warren binary>/../lib/warren/plugins.
std::filesystem::path bundled_plugin_dir();

std::vector<std::filesystem::path> plugin_search_path(const std::vector<std::filesystem::path>& flag_dirs,
                                                      const std::vector<std::filesystem::path>& config_dirs);

/// The same with `bundled` last instead of the binary's folder: the
/// embedding library (core/embed) passes the one installed beside itself.
std::vector<std::filesystem::path> plugin_search_path(const std::vector<std::filesystem::path>& flag_dirs,
                                                      const std::vector<std::filesystem::path>& config_dirs,
                                                      const std::filesystem::path& bundled);

}  // namespace warren::core

#include "core/plugin/plugin_loader.hpp"

#include <warren/sdk/suggest.hpp>

#include <boost/dll/shared_library.hpp>

#include <algorithm>
#include <set>

namespace warren::core {
namespace {

constexpr const char* descriptor_symbol = "warren_plugin";

bool looks_like_plugin(const std::filesystem::path& file) {
  auto name = file.filename().string();
  return name.starts_with("libwarren-") && file.extension() == ".so";
}

std::vector<std::filesystem::path> plugin_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (looks_like_plugin(it->path())) files.push_back(it->path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::string plugin_file_name(sdk::PluginKind kind, std::string_view name) {
  return std::string("libwarren-") + sdk::to_string(kind) + "-" + std::string(name) + ".so";
}

void PluginDeleter::operator()(sdk::PluginObject* object) const noexcept {
  // Virtual destructor: the plugin's code frees the object. `library` is
  // released after this returns, so the code is still mapped here.
  delete object;
}

PluginLoader::PluginLoader(std::vector<std::filesystem::path> search_dirs, HostAbi host)
    : dirs_(std::move(search_dirs)), host_(std::move(host)) {}

std::variant<LoadedPlugin, RefusedPlugin> PluginLoader::open(const std::filesystem::path& file,
                                                             std::optional<sdk::PluginKind> expected) const {
  auto refuse = [&](std::string reason) { return RefusedPlugin{file, std::move(reason)}; };
  if (!std::filesystem::exists(file)) return refuse("no such file");
  auto library = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code ec;
  // rtld_local: every plugin exports the same symbol name; keep them apart.
  library->load(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) return refuse("cannot be loaded as a shared library: " + ec.message());
  if (!library->has(descriptor_symbol))
    return refuse(std::string("it exports no '") + descriptor_symbol + "' descriptor: not a warren plugin");
  const auto& d = library->get<const sdk::PluginDescriptor>(descriptor_symbol);
  if (auto reason = refusal_reason(d, host_, expected)) return refuse(*reason);
  // `describe` exists only in descriptors of ABI 1.1 and later.
  sdk::PluginDescribe describe = d.abi_minor >= 1 ? d.describe : nullptr;
  return LoadedPlugin{d.kind,       d.name, d.version ? d.version : "", d.description ? d.description : "",
                      file,         library, d.create, describe};
}

PluginScan PluginLoader::scan() const {
  PluginScan result;
  std::set<std::pair<sdk::PluginKind, std::string>> seen;
  for (const auto& dir : dirs_) {
    for (const auto& file : plugin_files(dir)) {
      auto opened = open(file);
      if (auto* refused = std::get_if<RefusedPlugin>(&opened)) {
        result.refused.push_back(std::move(*refused));
        continue;
      }
      auto& plugin = std::get<LoadedPlugin>(opened);
      if (!seen.emplace(plugin.kind, plugin.name).second) {
        result.shadowed.push_back(file);
        continue;
      }
      result.plugins.push_back(std::move(plugin));
    }
  }
  return result;
}

std::variant<LoadedPlugin, std::string> PluginLoader::find(sdk::PluginKind kind, std::string_view name) const {
  const std::string file_name = plugin_file_name(kind, name);
  for (const auto& dir : dirs_) {
    auto file = dir / file_name;
    if (!std::filesystem::exists(file)) continue;
    auto opened = open(file, kind);
    if (auto* refused = std::get_if<RefusedPlugin>(&opened))
      return "plugin " + file.string() + " was refused: " + refused->reason;
    auto& plugin = std::get<LoadedPlugin>(opened);
    if (plugin.name != name)
      return "plugin " + file.string() + " calls itself '" + plugin.name + "', not '" + std::string(name) +
             "'; rename the file or fix its descriptor";
    return std::move(plugin);
  }

  std::vector<std::string> names;
  std::string found;
  for (const auto& p : scan().plugins) {
    if (p.kind != kind) continue;
    names.push_back(p.name);
    found += "\n    " + p.name + " (" + p.file.string() + ")";
  }
  auto match = sdk::closest_match(name, names);
  std::string message = std::string("unknown ") + sdk::to_string(kind) + " plugin '" + std::string(name) + "'" +
                        (match ? "; did you mean '" + *match + "'?" : "");
  if (names.empty()) {
    message += "; no " + std::string(sdk::to_string(kind)) + " plugins were found in:";
    for (const auto& dir : dirs_) message += "\n    " + dir.string();
  } else {
    message += (match ? " Available " : "; available ") + std::string(sdk::to_string(kind)) + " plugins:" + found;
  }
  return message;
}

}  // namespace warren::core

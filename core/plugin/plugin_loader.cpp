#include "core/plugin/plugin_loader.hpp"

#include <warren/sdk/suggest.hpp>

#include <boost/dll/shared_library.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

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

/// What tells a file replaced on disk from the one loaded: inode, size, mtime.
using FileIdentity = std::tuple<dev_t, ino_t, off_t, long long>;

std::optional<FileIdentity> identity_of(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return std::nullopt;
  return FileIdentity{st.st_dev, st.st_ino, st.st_size,
                      static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec};
}

/// Every library this process loaded: by the path it was loaded from (what
/// dlopen of that path returns), and the ones loaded from a copy, by the
/// identity of the file copied. They stay loaded until the process exits: a
/// plugin's code registers Asio services (timers, resolvers) in the shared
/// io_context, whose registry keeps their type_info and vtables; unloading
/// the library while the io_context lives crashes the next service lookup.
/// The cost is one mapping per file version loaded.
struct LoadedLibraries {
  std::mutex mutex;
  std::map<std::filesystem::path, std::pair<FileIdentity, std::shared_ptr<boost::dll::shared_library>>> by_path;
  std::map<FileIdentity, std::shared_ptr<boost::dll::shared_library>> by_copy;
};

LoadedLibraries& loaded_libraries() {
  static auto* libraries = new LoadedLibraries;  // never destroyed: nothing is unloaded before exit
  return *libraries;
}

constexpr auto load_mode = boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local;

// A fresh name dlopen has never seen, in a folder only we can write to; the
// copy is removed once mapped (the mapping stays).
std::shared_ptr<boost::dll::shared_library> load_copy(const std::filesystem::path& file, std::string& error) {
  std::string pattern = (std::filesystem::temp_directory_path() / "warren-plugin-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) {
    error = "cannot make a folder for a copy of the replaced file: " + std::string(std::strerror(errno));
    return nullptr;
  }
  const std::filesystem::path dir = pattern;
  const auto copy = dir / file.filename();
  std::error_code ec;
  std::shared_ptr<boost::dll::shared_library> library;
  if (std::filesystem::copy_file(file, copy, ec)) {
    library = std::make_shared<boost::dll::shared_library>();
    boost::dll::fs::error_code load_ec;
    library->load(copy, load_mode, load_ec);
    if (load_ec) {
      error = "cannot be loaded as a shared library: " + load_ec.message();
      library.reset();
    }
  } else {
    error = "cannot copy the replaced file to load it anew: " + ec.message();
  }
  std::filesystem::remove_all(dir, ec);
  return library;
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
  auto identity = identity_of(file);
  if (!identity) return refuse("cannot read it: " + std::string(std::strerror(errno)));
  std::shared_ptr<boost::dll::shared_library> library;
  bool anew = false;
  {
    auto& loaded = loaded_libraries();
    std::lock_guard lock(loaded.mutex);
    // dlopen(file) returns the library first loaded from that path as long as it is mapped.
    auto known = loaded.by_path.find(file);
    if (known != loaded.by_path.end() && known->second.first != *identity) {
      // Replaced on disk since: dlopen(file) would return the old library.
      anew = true;
      library = loaded.by_copy[*identity];
      if (!library) {
        std::string error;
        library = load_copy(file, error);
        if (!library) return refuse(error);
        loaded.by_copy[*identity] = library;
      }
    } else if (known != loaded.by_path.end()) {
      library = known->second.second;
    } else {
      library = std::make_shared<boost::dll::shared_library>();
      boost::dll::fs::error_code ec;
      // rtld_local: every plugin exports the same symbol name; keep them apart.
      library->load(file, load_mode, ec);
      if (ec) return refuse("cannot be loaded as a shared library: " + ec.message());
      loaded.by_path[file] = {*identity, library};
    }
  }
  if (!library->has(descriptor_symbol))
    return refuse(std::string("it exports no '") + descriptor_symbol + "' descriptor: not a warren plugin");
  const auto& d = library->get<const sdk::PluginDescriptor>(descriptor_symbol);
  if (auto reason = refusal_reason(d, host_, expected)) return refuse(*reason);
  // `describe` exists only in descriptors of ABI 1.1 and later.
  sdk::PluginDescribe describe = d.abi_minor >= 1 ? d.describe : nullptr;
  return LoadedPlugin{.kind = d.kind,
                      .name = d.name,
                      .version = d.version ? d.version : "",
                      .description = d.description ? d.description : "",
                      .file = file,
                      .library = library,
                      .abi_minor = d.abi_minor,
                      .create = d.create,
                      .describe = describe,
                      .loaded_anew = anew};
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

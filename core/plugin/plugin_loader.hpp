#pragma once
// Finds plugin libraries, checks their descriptors, and makes their objects.
// Nothing in a plugin runs before its descriptor passed refusal_reason().
// Objects keep their library loaded: PluginPtr's deleter owns a reference.

#include "core/plugin/backend_abi_gate.hpp"
#include "core/plugin/descriptor_check.hpp"
#include "core/plugin/plugin_ptr.hpp"

#include <warren/sdk/plugin.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace warren::core {

/// File name of a plugin: libwarren-<kind>-<name>.so.
std::string plugin_file_name(sdk::PluginKind kind, std::string_view name);

/// A plugin library that passed every check.
struct LoadedPlugin {
  sdk::PluginKind kind;
  std::string name;
  std::string version;
  std::string description;
  std::filesystem::path file;
  std::shared_ptr<boost::dll::shared_library> library;
  /// The ABI minor its descriptor declared (<= this warren's): core calls
  /// no virtual the SDK added after it (backend_abi_gate.hpp).
  std::uint16_t abi_minor = WARREN_ABI_MINOR;
  sdk::PluginFactory create = nullptr;
  sdk::PluginDescribe describe = nullptr;  ///< null for untyped plugins and ABI 1.0 ones
  /// The file changed on disk since this process loaded it, and was loaded
  /// anew from a private copy (PluginLoader::open); the old library stays
  /// loaded for the objects made from it (until the process exits).
  bool loaded_anew = false;

  /// The plugin's keys, or nullopt when it declares none.
  std::optional<sdk::PluginKeys> keys() const {
    if (!describe) return std::nullopt;
    sdk::PluginKeys out;
    describe(out);
    return out;
  }
};

/// A file that looked like a plugin and was refused, with the sentence why.
struct RefusedPlugin {
  std::filesystem::path file;
  std::string reason;
};

struct PluginScan {
  std::vector<LoadedPlugin> plugins;  ///< first of each kind+name in search order
  std::vector<RefusedPlugin> refused;
  std::vector<std::filesystem::path> shadowed;  ///< later files with a kind+name already found
};

class PluginLoader {
 public:
  explicit PluginLoader(std::vector<std::filesystem::path> search_dirs, HostAbi host = {});

  const std::vector<std::filesystem::path>& search_dirs() const { return dirs_; }

  /// Opens and checks one file. `expected` is the kind the caller needs.
  /// A file is loaded once (later opens share it) and stays loaded until
  /// the process exits (plugin code registers Asio services in the shared
  /// io_context; unloading it under them crashes). dlopen returns the
  /// library already loaded from a path without reading the file again, so
  /// a file replaced on disk since (another inode, size or mtime) is copied
  /// to a fresh private path, loaded from there and the copy removed: objects
  /// made from it run the new code, objects made before keep running the old
  /// library, which stays loaded. Replace a plugin by renaming a new file
  /// over it (install(1), mv), never by writing into it: a library being
  /// rewritten in place crashes the process that has it mapped.
  std::variant<LoadedPlugin, RefusedPlugin> open(const std::filesystem::path& file,
                                                 std::optional<sdk::PluginKind> expected = std::nullopt) const;

  /// Every plugin in the search path.
  PluginScan scan() const;

  /// The plugin of `kind` called `name`, or a sentence saying why not (for an
  /// unknown name: the plugins of that kind that were found, and where).
  std::variant<LoadedPlugin, std::string> find(sdk::PluginKind kind, std::string_view name) const;

  /// Runs the plugin's factory on its config table. A backend of an older
  /// ABI minor comes back wrapped so core never calls a virtual it lacks.
  template <typename T>
  PluginPtr<T> create(const LoadedPlugin& plugin, const sdk::ConfigTable& table, sdk::PluginContext& context,
                      sdk::Diagnostics& diagnostics) const {
    static_assert(std::is_base_of_v<sdk::PluginObject, T>);
    // A fresh list: the factory may judge its table by diagnostics.ok().
    sdk::Diagnostics own;
    sdk::PluginObject* object = plugin.create(table, context, own);
    diagnostics.append(own);
    // The kind was checked and a descriptor's kind follows its factory's
    // return type, so this downcast is to the object's real type.
    PluginPtr<T> made(static_cast<T*>(object), PluginDeleter{plugin.library});
    if constexpr (std::is_same_v<T, sdk::Backend>) return gate_backend_abi(std::move(made), plugin.abi_minor);
    return made;
  }

 private:
  std::vector<std::filesystem::path> dirs_;
  HostAbi host_;
};

}  // namespace warren::core

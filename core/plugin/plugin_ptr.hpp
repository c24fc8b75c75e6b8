#pragma once
// Owning pointers to objects a plugin made: freed by the plugin's own code,
// with its library kept loaded while they live.

#include <warren/sdk/plugin_object.hpp>

#include <memory>

namespace boost::dll {
class shared_library;
}

namespace warren::core {

/// Deletes a plugin object with the plugin's own code, then lets go of the library.
struct PluginDeleter {
  std::shared_ptr<boost::dll::shared_library> library;
  void operator()(sdk::PluginObject* object) const noexcept;
};

template <typename T>
using PluginPtr = std::unique_ptr<T, PluginDeleter>;

}  // namespace warren::core

#pragma once
// Loads a bundled plugin by name through the real loader, as `warren` does.

#include "core/plugin/plugin_loader.hpp"

#include <warren/sdk/testing.hpp>

#include <boost/asio/io_context.hpp>

namespace warren::test {

struct PluginFixture {
  boost::asio::io_context io;
  sdk::testing::CapturingLogger logger;
  sdk::PluginContext context{io.get_executor(), logger};
  core::PluginLoader loader{{WARREN_PLUGIN_DIR}};
  sdk::Diagnostics diagnostics;

  /// The plugin's object, or null with `diagnostics` saying why.
  template <typename T>
  core::PluginPtr<T> make(sdk::PluginKind kind, const std::string& name, const sdk::ConfigTable& table) {
    auto found = loader.find(kind, name);
    if (auto* why = std::get_if<std::string>(&found)) {
      diagnostics.error(table.where, *why);
      return {};
    }
    return loader.create<T>(std::get<core::LoadedPlugin>(found), table, context, diagnostics);
  }

  std::vector<std::string> errors() const;
};

}  // namespace warren::test

#pragma once
// Loads a bundled plugin by name through the real loader, as `warren` does.

#include "core/plugin/plugin_loader.hpp"

#include <warren/sdk/testing.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <string>
#include <vector>

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

/// A loopback TCP listener whose accept queue is full: the kernel drops new
/// SYNs, so a connect to it hangs until the connecting side gives up (a
/// backend's connect_timeout). Runs `io` for up to 800 ms to fill the queue.
struct HungListener {
  explicit HungListener(boost::asio::io_context& io);
  boost::asio::ip::tcp::endpoint endpoint() const { return acceptor.local_endpoint(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(endpoint().port()); }

  boost::asio::ip::tcp::acceptor acceptor;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::socket>> fillers;
};

}  // namespace warren::test

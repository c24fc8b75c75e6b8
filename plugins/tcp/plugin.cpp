// Registration of the `tcp` backend plugin.

#include "plugins/tcp/tcp_backend.hpp"

#include <warren/sdk/plugin.hpp>

namespace warren::tcp {
namespace {

std::unique_ptr<sdk::Backend> make(const sdk::ConfigTable& table, sdk::PluginContext& context,
                                   sdk::Diagnostics& diagnostics) {
  auto config = read_tcp_backend_config(table, diagnostics);
  if (!config) return nullptr;
  return std::make_unique<TcpBackend>(std::move(*config), context);
}

}  // namespace
}  // namespace warren::tcp

WARREN_PLUGIN("tcp", "1.0.0", "deliver streams to a TCP service (loopback unless allow_remote)", warren::tcp::make)

// Registration of the `tcp` backend plugin.

#include "plugins/tcp/tcp_backend.hpp"

#include <warren/sdk/plugin.hpp>

namespace warren::tcp {
namespace {

std::unique_ptr<sdk::Backend> make(const TcpBackendConfig& config, sdk::PluginContext& context) {
  return std::make_unique<TcpBackend>(config, context);
}

}  // namespace
}  // namespace warren::tcp

WARREN_TYPED_PLUGIN("tcp", "1.0.0", "deliver streams to a TCP service (loopback unless allow_remote)",
                    warren::tcp::tcp_backend_schema, warren::tcp::make)

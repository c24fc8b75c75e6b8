// Registration of the `unix` backend plugin.

#include "plugins/unix/unix_backend.hpp"

#include <warren/sdk/plugin.hpp>

namespace warren::unix_socket {
namespace {

std::unique_ptr<sdk::Backend> make(const UnixBackendConfig& config, sdk::PluginContext& context) {
  return std::make_unique<UnixBackend>(config, context);
}

}  // namespace
}  // namespace warren::unix_socket

WARREN_TYPED_PLUGIN("unix", "1.0.0", "deliver streams to a Unix-domain socket service (a path, or @name: abstract)",
                    warren::unix_socket::unix_backend_schema, warren::unix_socket::make)

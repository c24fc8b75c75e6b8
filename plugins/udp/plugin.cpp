// Registration of the `udp` backend plugin.

#include "plugins/udp/udp_backend.hpp"

#include <warren/sdk/plugin.hpp>

namespace warren::udp {
namespace {

std::unique_ptr<sdk::Backend> make(const UdpBackendConfig& config, sdk::PluginContext& context) {
  return std::make_unique<UdpBackend>(config, context);
}

}  // namespace
}  // namespace warren::udp

WARREN_TYPED_PLUGIN("udp", "1.0.0", "deliver a UDP tunnel's flows to a UDP service (loopback unless allow_remote)",
                    warren::udp::udp_backend_schema, warren::udp::make)

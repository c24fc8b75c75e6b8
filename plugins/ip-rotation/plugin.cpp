// Registration of the `ip-rotation` policy plugin: config in, policy out.

#include "plugins/ip-rotation/rotation.hpp"

#include <warren/sdk/plugin.hpp>

namespace warren::ip_rotation {
namespace {

class IpRotationPlugin final : public sdk::Policy {
 public:
  explicit IpRotationPlugin(RotationConfig config) : policy_(std::move(config)) {}
  const sdk::AddressPolicy* address() const override { return &policy_; }

 private:
  IpRotationPolicy policy_;
};

std::unique_ptr<sdk::Policy> make(const RotationConfig& config, sdk::PluginContext&) {
  return std::make_unique<IpRotationPlugin>(config);
}

}  // namespace
}  // namespace warren::ip_rotation

WARREN_TYPED_PLUGIN("ip-rotation", "1.0.0",
                    "edge address per HA leg: sticky while it works, rotation by error class, give-back after a "
                    "health window",
                    warren::ip_rotation::rotation_schema, warren::ip_rotation::make)

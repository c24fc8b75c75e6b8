// Registration of the `fallback` policy plugin: config in, policy out.

#include "plugins/fallback/fallback.hpp"

#include <warren/sdk/plugin.hpp>

namespace warren::fallback {
namespace {

class FallbackPlugin final : public sdk::Policy {
 public:
  explicit FallbackPlugin(FallbackConfig config) : policy_(config) {}
  const sdk::FallbackPolicy* fallback() const override { return &policy_; }

 private:
  CountingFallback policy_;
};

std::unique_ptr<sdk::Policy> make(const FallbackConfig& config, sdk::PluginContext&) {
  return std::make_unique<FallbackPlugin>(config);
}

}  // namespace
}  // namespace warren::fallback

WARREN_TYPED_PLUGIN("fallback", "1.0.0",
                    "moves a leg to the next [[transport]] after dial failures or blocked UDP, and back to the "
                    "preferred one by probing",
                    warren::fallback::fallback_schema, warren::fallback::make)

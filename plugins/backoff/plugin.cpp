// Registration of the `backoff` policy plugin: config in, policy out.

#include "plugins/backoff/backoff.hpp"

#include <warren/sdk/plugin.hpp>

namespace warren::backoff {
namespace {

class BackoffPlugin final : public sdk::Policy {
 public:
  explicit BackoffPlugin(BackoffConfig config) : policy_(config) {}
  const sdk::BackoffPolicy* backoff() const override { return &policy_; }

 private:
  ExponentialBackoff policy_;
};

std::unique_ptr<sdk::Policy> make(const BackoffConfig& config, sdk::PluginContext&) {
  return std::make_unique<BackoffPlugin>(config);
}

}  // namespace
}  // namespace warren::backoff

WARREN_TYPED_PLUGIN("backoff", "1.0.0", "exponential backoff with jitter, cap, attempt limit and reset",
                    warren::backoff::backoff_schema, warren::backoff::make)

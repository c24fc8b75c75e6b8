// "Decorrelated jitter" backoff (AWS Architecture Blog, 2015):
//   delay = min(max, uniform(base, previous * 3))
// A policy a third party might ship: it includes only <warren/sdk/...>.
// Its keys are declared once, in decorrelated_schema(): the same declaration
// validates its table and shows in `warren plugins --describe decorrelated`.

#include <warren/sdk/config_schema.hpp>
#include <warren/sdk/plugin.hpp>

#include <algorithm>

namespace {

using namespace std::chrono_literals;
using warren::sdk::BackoffState;
using warren::sdk::Duration;

struct DecorrelatedConfig {
  Duration base = 500ms;
  Duration max = 30s;
};

const warren::sdk::ConfigSchema<DecorrelatedConfig>& decorrelated_schema() {
  using C = DecorrelatedConfig;
  static const auto schema =
      warren::sdk::ConfigSchema<C>("decorrelated-jitter backoff: each delay drawn between base and 3x the last")
          .duration("base", &C::base, "smallest delay", {.min = 1ms})
          .duration("max", &C::max, "largest delay", {.min = 1ms})
          .check([](const C& c, const warren::sdk::CheckContext& at) {
            if (c.max < c.base) at.error("max", "'max' must be at least 'base'");
          });
  return schema;
}

class DecorrelatedBackoff final : public warren::sdk::Policy, public warren::sdk::BackoffPolicy {
 public:
  explicit DecorrelatedBackoff(const DecorrelatedConfig& config) : base_(config.base), max_(config.max) {}

  const warren::sdk::BackoffPolicy* backoff() const override { return this; }

  void on_connected(BackoffState& state, warren::sdk::TimePoint now) const override { state.connected_since = now; }

  std::optional<Duration> next_delay(BackoffState& state, warren::sdk::TimePoint now,
                                     warren::sdk::RandomSource& random) const override {
    // Any successful connection starts the sequence again.
    if (state.connected_since) {
      state.connected_since.reset();
      state.last_delay = Duration::zero();
    }
    ++state.failures;
    (void)now;
    double low = static_cast<double>(base_.count());
    double high = std::max(low, 3.0 * static_cast<double>(state.last_delay.count()));
    Duration delay(static_cast<Duration::rep>(random.uniform(low, high)));
    state.last_delay = std::min(delay, max_);
    return state.last_delay;
  }

  Duration max_delay() const override { return max_; }

 private:
  Duration base_;
  Duration max_;
};

std::unique_ptr<warren::sdk::Policy> make(const DecorrelatedConfig& config, warren::sdk::PluginContext&) {
  return std::make_unique<DecorrelatedBackoff>(config);
}

}  // namespace

WARREN_TYPED_PLUGIN("decorrelated", "1.0.0", "decorrelated-jitter backoff (third-party example)", decorrelated_schema,
                    make)

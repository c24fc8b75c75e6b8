// "Decorrelated jitter" backoff (AWS Architecture Blog, 2015):
//   delay = min(max, uniform(base, previous * 3))
// A policy a third party might ship: it includes only <warren/sdk/...>.

#include <warren/sdk/config_reader.hpp>
#include <warren/sdk/plugin.hpp>

#include <algorithm>

namespace {

using warren::sdk::BackoffState;
using warren::sdk::Duration;

class DecorrelatedBackoff final : public warren::sdk::Policy, public warren::sdk::BackoffPolicy {
 public:
  DecorrelatedBackoff(Duration base, Duration max) : base_(base), max_(max) {}

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

std::unique_ptr<warren::sdk::Policy> make(const warren::sdk::ConfigTable& table, warren::sdk::PluginContext&,
                                          warren::sdk::Diagnostics& diagnostics) {
  using namespace std::chrono_literals;
  warren::sdk::ConfigReader r(table, diagnostics);
  auto base = r.duration("base", 500ms, "smallest delay", {.min = 1ms});
  auto max = r.duration("max", 30s, "largest delay", {.min = 1ms});
  r.finish();
  if (!diagnostics.ok()) return nullptr;
  if (*max < *base) {
    diagnostics.error(table.find("max") ? table.find("max")->where : table.where, "'max' must be at least 'base'");
    return nullptr;
  }
  return std::make_unique<DecorrelatedBackoff>(*base, *max);
}

}  // namespace

WARREN_PLUGIN("decorrelated", "1.0.0", "decorrelated-jitter backoff (third-party example)", make)

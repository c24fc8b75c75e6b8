// SimWorld: the simulated edges and network, the shell that carries out
// the supervisor's actions, and the invariants checked after every step.

#include "sim_world.hpp"

#include <algorithm>
#include <sstream>

namespace warren::core::supervisor::test {

using namespace sim;

using namespace std::chrono_literals;
using sdk::errc;

namespace {

/// A third-party-like address policy that ignores `taken` and sometimes
/// answers out of range: the supervisor must stay within its rules anyway.
class CarelessAddressPolicy final : public sdk::AddressPolicy {
 public:
  sdk::AddressChoice choose(sdk::AddressState&, sdk::AddressHealth&, std::span<const sdk::EdgeAddress> addresses,
                            unsigned, std::span<const std::size_t>, sdk::TimePoint,
                            sdk::RandomSource& random) const override {
    return {static_cast<std::size_t>(random.next_u64() % (addresses.size() + 1)), random.uniform01() < 0.3};
  }
  sdk::AddressAction on_error(sdk::AddressState&, sdk::AddressHealth&, const sdk::EdgeAddress&, const sdk::error_code&,
                              sdk::TimePoint) const override {
    return sdk::AddressAction::keep;
  }
  void on_connected(sdk::AddressState&, sdk::AddressHealth&, const sdk::EdgeAddress&, sdk::TimePoint) const override {}
};

}  // namespace

bool SimWorld::EventOrder::operator()(const std::shared_ptr<Event>& a, const std::shared_ptr<Event>& b) const {
  return a->at != b->at ? a->at > b->at : a->order > b->order;
}

SimWorld::SimWorld(std::uint64_t seed, SimStats& stats, const BackoffFactory& make_backoff)
    : seed_(seed), stats_(stats), random_(seed), policy_random_(seed ^ 0x9e37'79b9'7f4a'7c15ULL) {
  scenario_ = SimScenario::draw(random_);
  for (std::size_t i = 0; i < scenario_.edge_count; ++i) {
    sdk::EdgeAddress a;
    a.address = boost::asio::ip::make_address_v4(0x0a000001u + static_cast<std::uint32_t>(i));
    a.port = 7844;
    a.region = (i % 2 == 0) ? "fra" : "ams";
    edges_.push_back(a);
  }
  edge_up_.assign(edges_.size(), true);
  edge_silent_.assign(edges_.size(), false);
  policy_ = make_backoff ? make_backoff(scenario_)
                         : std::make_unique<ExponentialBackoff>(scenario_.backoff_base, scenario_.backoff_cap, 10s,
                                                                scenario_.backoff_give_up);
  backoff_ = std::make_unique<RecordingBackoff>(*policy_);
  if (scenario_.custom_address_policy) {
    address_ = std::make_unique<CarelessAddressPolicy>();
  } else {
    auto rotation = std::make_unique<RecordingRotation>(scenario_.rotation);
    rotation_ = rotation.get();
    address_ = std::move(rotation);
  }
  supervisor_ = std::make_unique<Supervisor>(scenario_.config, *backoff_, policy_random_, address_.get());
  unsigned n = scenario_.config.ha_connections;
  legs_.resize(n);
  register_sent_.assign(n, false);
  retry_at_.assign(n, std::nullopt);
  last_heartbeat_.assign(n, 0);
  dial_failures_on_quic_.assign(n, 0);
  retry_floor_.assign(n, std::nullopt);
}

SimWorld::~SimWorld() = default;

bool SimWorld::chance(double p) { return random_.uniform01() < p; }

sdk::Duration SimWorld::latency(sdk::Duration lo, sdk::Duration hi) {
  return lo + sdk::Duration(static_cast<sdk::Duration::rep>(random_.uniform01() * static_cast<double>((hi - lo).count())));
}

std::shared_ptr<SimWorld::Event> SimWorld::event(sim::Kind kind, sdk::Duration after, unsigned leg) {
  auto e = std::make_shared<Event>();
  e->at = now_ + after;
  e->kind = kind;
  e->leg = leg;
  if (leg < legs_.size() && legs_[leg]) e->attempt = legs_[leg]->attempt;
  return e;
}

void SimWorld::schedule(std::shared_ptr<Event> e) {
  e->order = next_order_++;
  queue_.push(std::move(e));
}

void SimWorld::trace(std::string line) {
  std::ostringstream out;
  out << "t=" << sdk::format_duration(now_ - start_) << " " << line;
  trace_.push_back(out.str());
  if (trace_.size() > 40) trace_.erase(trace_.begin());
}

void SimWorld::violate(std::string what) {
  if (!violation_) violation_ = std::move(what);
}

std::optional<std::string> SimWorld::run(std::size_t max_events) {
  start_ = now_ = sdk::TimePoint(std::chrono::hours(1000));
  ++stats_.runs;
  if (scenario_.shutdown_at) schedule(event(shutdown, *scenario_.shutdown_at));
  for (std::size_t i = 0; i < edges_.size(); ++i) {
    auto e = event(edge_down, latency(2s, 60s));
    e->edge = i;
    schedule(e);
  }
  supervisor_->handle_start(now_);
  trace("start");
  drain();
  check_after_step();

  int same_time_timers = 0;
  for (std::size_t step = 0; step < max_events && !exit_code_ && !violation_; ++step) {
    ++stats_.events;
    auto timer = supervisor_->next_timeout();
    std::optional<sdk::TimePoint> world = queue_.empty() ? std::nullopt : std::optional(queue_.top()->at);
    if (!timer && !world) {
      violate("stalled: no timer and no pending event, yet no Exit");
      break;
    }
    if (timer && (!world || *timer <= *world)) {
      // The timer may be due already (a zero delay); it must still make progress.
      same_time_timers = *timer <= now_ ? same_time_timers + 1 : 0;
      if (same_time_timers > 100) violate("handle_timeout does not move next_timeout");
      now_ = std::max(now_, *timer);
      trace("timer");
      supervisor_->handle_timeout(now_);
    } else {
      auto e = queue_.top();
      queue_.pop();
      now_ = e->at;
      deliver(*e);
    }
    drain();
    check_after_step();
  }
  if (!exit_code_ && !violation_) {
    ++stats_.unfinished;
    // After the horizon, a forced stop must still end cleanly.
    trace("horizon: shutdown, then shutdown again");
    forced_stop_ = true;
    request_shutdown();
    supervisor_->handle_shutdown(now_);
    drain();
    if (!exit_code_) {
      supervisor_->handle_shutdown(now_);
      drain();
    }
    if (!exit_code_) violate("a second shutdown did not end the run");
  }
  if (exit_code_ && !violation_) {
    // Nothing moves a finished supervisor.
    supervisor_->handle_timeout(now_ + 1h);
    supervisor_->handle_connection_lost(now_, 0, errc::peer_closed);
    supervisor_->handle_start(now_);
    if (supervisor_->poll_action()) violate("an action after Exit");
  }
  if (!violation_) return std::nullopt;
  std::ostringstream out;
  out << "seed " << seed_ << ": " << *violation_ << "\n  scenario: " << scenario_.describe() << "\n  recent steps:\n";
  for (const auto& line : trace_) out << "    " << line << "\n";
  return out.str();
}

void SimWorld::drain() {
  while (auto action = supervisor_->poll_action()) {
    trace("  -> " + to_string(*action));
    if (exit_code_) violate("an action after Exit: " + to_string(*action));
    execute(*action);
  }
}

}  // namespace warren::core::supervisor::test

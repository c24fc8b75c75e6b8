// SimWorld: the simulated edges and network, the shell that carries out
// the supervisor's actions, and the invariants checked after every step.

#include "sim_world.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <sstream>

namespace warren::core::supervisor::test {

using namespace sim;

using namespace std::chrono_literals;
using sdk::errc;

RegistryLimits sim::sim_registry_limits() {
  RegistryLimits limits;
  limits.ports = {30000, 30099};
  return limits;
}

std::vector<TunnelEntry> sim::sim_tunnels() {
  TunnelEntry t;
  t.id = "sim";
  t.tokens = {"sim-token"};
  t.max_replicas = 2;
  return {t};
}

namespace {

/// How many recent steps a failure shows (WARREN_SIM_TRACE, default 60).
std::size_t trace_lines() {
  static const std::size_t lines = [] {
    const char* value = std::getenv("WARREN_SIM_TRACE");
    return value && *value ? static_cast<std::size_t>(std::strtoull(value, nullptr, 10)) : std::size_t{60};
  }();
  return lines;
}

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

bool EventOrder::operator()(const std::shared_ptr<Event>& a, const std::shared_ptr<Event>& b) const {
  return a->at != b->at ? a->at > b->at : a->order > b->order;
}

SimReplica::SimReplica(unsigned index, Net& net, const SimScenario& scenario, std::uint64_t seed, SimStats& stats,
                       const BackoffFactory& make_backoff, std::optional<sdk::Duration> shutdown_at)
    : index_(index),
      connector_id_("replica-" + std::to_string(index)),
      net_(net),
      seed_(seed),
      stats_(stats),
      random_(net.random),
      policy_random_(seed ^ 0x9e37'79b9'7f4a'7c15ULL ^ (index * 0x51ed'2701ULL)),
      scenario_(scenario),
      shutdown_at_(shutdown_at),
      edges_(net.edges),
      edge_up_(net.edge_up),
      edge_silent_(net.edge_silent),
      start_(net.start),
      now_(net.now) {
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
  fallback_ = std::make_unique<fallback::CountingFallback>(scenario_.fallback);
  supervisor_ =
      std::make_unique<Supervisor>(scenario_.config, *backoff_, policy_random_, address_.get(), fallback_.get());
  unsigned n = scenario_.config.ha_connections;
  legs_.resize(n);
  probes_.resize(n);
  retiring_.resize(n);
  retired_at_.assign(n, {});
  promoted_.assign(n, false);
  register_sent_.assign(n, false);
  retry_at_.assign(n, std::nullopt);
  last_heartbeat_.assign(n, 0);
  dial_failures_on_quic_.assign(n, 0);
  retry_floor_.assign(n, std::nullopt);
  last_registered_edge_.assign(n, std::nullopt);
  streak_address_.assign(n, std::nullopt);
  streak_.assign(n, 0);
}

SimReplica::~SimReplica() = default;

bool SimReplica::chance(double p) { return random_.uniform01() < p; }

sdk::Duration SimReplica::latency(sdk::Duration lo, sdk::Duration hi) {
  return lo +
         sdk::Duration(static_cast<sdk::Duration::rep>(random_.uniform01() * static_cast<double>((hi - lo).count())));
}

std::shared_ptr<Event> SimReplica::event(sim::Kind kind, sdk::Duration after, unsigned leg) {
  auto e = std::make_shared<Event>();
  e->at = now_ + after;
  e->kind = kind;
  e->leg = leg;
  e->replica = index_;
  if (leg < legs_.size() && legs_[leg]) e->attempt = legs_[leg]->attempt;
  return e;
}

std::shared_ptr<Event> SimReplica::event_for(const Connection& c, sim::Kind kind, sdk::Duration after, unsigned leg) {
  auto e = event(kind, after, leg);
  e->attempt = c.attempt;
  return e;
}

bool SimReplica::quic_blocked_now() const {
  return scenario_.quic_blocked && !(scenario_.quic_heals_at && now_ - start_ >= *scenario_.quic_heals_at);
}

void SimReplica::schedule(std::shared_ptr<Event> e) {
  e->order = net_.next_order++;
  net_.queue.push(std::move(e));
}

void SimReplica::trace(std::string line) {
  std::ostringstream out;
  out << "t=" << sdk::format_duration(now_ - start_) << " ";
  if (scenario_.replicas > 1) out << "[" << connector_id_ << "] ";
  out << line;
  net_.trace.push_back(out.str());
  if (net_.trace.size() > trace_lines()) net_.trace.erase(net_.trace.begin());
}

void SimReplica::violate(std::string what) {
  if (!net_.violation)
    net_.violation = (scenario_.replicas > 1 ? connector_id_ + ": " : std::string()) + std::move(what);
}

bool SimReplica::is_registered(unsigned leg) const {
  return legs_[leg] && legs_[leg]->state == Connection::State::registered;
}

void SimReplica::start() {
  ++stats_.replica_runs;
  if (shutdown_at_) schedule(event(shutdown, *shutdown_at_));
  supervisor_->handle_start(now_);
  trace("start");
  drain();
}

std::optional<sdk::TimePoint> SimReplica::next_timeout() const {
  return exit_code_ ? std::nullopt : supervisor_->next_timeout();
}

void SimReplica::on_timer() {
  trace("timer");
  supervisor_->handle_timeout(now_);
}

void SimReplica::drain() {
  while (auto action = supervisor_->poll_action()) {
    trace("  -> " + to_string(*action));
    if (exit_code_) violate("an action after Exit: " + to_string(*action));
    execute(*action);
  }
  // No stream is cut by a return: a retiring connection closes drained, at
  // the end of its grace period, or when the run ends.
  if (retiring_closed_early_ && !exit_code_)
    violate("a retiring connection closed with streams open before its grace period ended");
  retiring_closed_early_ = false;
}

void SimReplica::finish_at_horizon() {
  if (!exit_code_) {
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
  if (exit_code_ && !net_.violation) {
    // Nothing moves a finished supervisor.
    supervisor_->handle_timeout(now_ + 1h);
    supervisor_->handle_connection_lost(now_, 0, errc::peer_closed);
    supervisor_->handle_start(now_);
    if (supervisor_->poll_action()) violate("an action after Exit");
  }
}

SimWorld::SimWorld(std::uint64_t seed, SimStats& stats, const BackoffFactory& make_backoff)
    : seed_(seed), stats_(stats), net_(seed) {
  scenario_ = SimScenario::draw(net_.random);
  for (std::size_t i = 0; i < scenario_.edge_count; ++i) {
    sdk::EdgeAddress a;
    a.address = boost::asio::ip::make_address_v4(0x0a000001u + static_cast<std::uint32_t>(i));
    a.port = 7844;
    a.region = (i % 2 == 0) ? "fra" : "ams";
    net_.edges.push_back(a);
  }
  const std::size_t n = net_.edges.size();
  net_.edge_up.assign(n, true);
  net_.edge_silent.assign(n, false);
  net_.edge_epoch.assign(n, 0);
  net_.registries.resize(n);
  for (auto& registry : net_.registries)
    registry = std::make_unique<TunnelRegistry>(sim_registry_limits(), sim_tunnels());
  // Discovery starts with every edge, or (when it will change) with a part of them.
  net_.in_dns.assign(n, true);
  if (scenario_.dns_changes && n > 1)
    for (std::size_t i = 0; i < n; ++i) net_.in_dns[i] = i == 0 || net_.random.uniform01() < 0.6;
  for (unsigned r = 0; r < scenario_.replicas; ++r) {
    auto shutdown_at = scenario_.shutdown_at;
    if (r > 0 && shutdown_at) shutdown_at = *shutdown_at + std::chrono::milliseconds(net_.random.next_u64() % 20000);
    replicas_.push_back(std::make_unique<SimReplica>(r, net_, scenario_, seed, stats_, make_backoff, shutdown_at));
  }
}

SimWorld::~SimWorld() = default;

void SimWorld::schedule(std::shared_ptr<Event> e) {
  e->order = net_.next_order++;
  net_.queue.push(std::move(e));
}

std::optional<std::string> SimWorld::run(std::size_t max_events) {
  net_.start = net_.now = sdk::TimePoint(std::chrono::hours(1000));
  ++stats_.runs;
  auto at = [&](sdk::Duration lo, sdk::Duration hi) {
    return net_.now + lo +
           sdk::Duration(
               static_cast<sdk::Duration::rep>(net_.random.uniform01() * static_cast<double>((hi - lo).count())));
  };
  for (std::size_t i = 0; i < net_.edges.size(); ++i) {
    auto e = std::make_shared<Event>();
    e->kind = edge_down;
    e->at = at(2s, 60s);
    e->edge = i;
    schedule(e);
  }
  if (scenario_.dns_changes) {
    auto e = std::make_shared<Event>();
    e->kind = dns_change;
    e->at = at(1s, 30s);
    schedule(e);
  }
  for (auto& r : replicas_) r->start();
  check_after_step();

  auto all_exited = [&] {
    return std::all_of(replicas_.begin(), replicas_.end(), [](const auto& r) { return r->exited(); });
  };
  int same_time_timers = 0;
  for (std::size_t step = 0; step < max_events && !all_exited() && !net_.violation; ++step) {
    ++stats_.events;
    std::optional<sdk::TimePoint> timer;
    SimReplica* due = nullptr;
    for (auto& r : replicas_)
      if (auto t = r->next_timeout(); t && (!timer || *t < *timer)) {
        timer = t;
        due = r.get();
      }
    std::optional<sdk::TimePoint> world = net_.queue.empty() ? std::nullopt : std::optional(net_.queue.top()->at);
    if (!timer && !world) {
      net_.violation = "stalled: no timer and no pending event, yet no Exit";
      break;
    }
    if (timer && (!world || *timer <= *world)) {
      // The timer may be due already (a zero delay); it must still make progress.
      same_time_timers = *timer <= net_.now ? same_time_timers + 1 : 0;
      if (same_time_timers > 100 && !net_.violation) net_.violation = "handle_timeout does not move next_timeout";
      net_.now = std::max(net_.now, *timer);
      due->on_timer();
    } else {
      auto e = net_.queue.top();
      net_.queue.pop();
      net_.now = e->at;
      deliver(*e);
    }
    for (auto& r : replicas_) r->drain();
    check_after_step();
  }
  if (!net_.violation)
    for (auto& r : replicas_) r->finish_at_horizon();
  if (!net_.violation) return std::nullopt;
  std::ostringstream out;
  out << "seed " << seed_ << ": " << *net_.violation << "\n  scenario: " << scenario_.describe()
      << "\n  recent steps:\n";
  for (const auto& line : net_.trace) out << "    " << line << "\n";
  return out.str();
}

void SimWorld::check_after_step() {
  for (auto& r : replicas_) r->check_after_step();
  if (replicas_.size() < 2) return;
  // Replicas coexist: both registered at once, even on one edge.
  bool both = true, shared = false;
  std::set<std::size_t> first_edges;
  for (unsigned leg = 0; leg < scenario_.config.ha_connections; ++leg)
    if (replicas_[0]->is_registered(leg)) first_edges.insert(replicas_[0]->connections()[leg]->edge);
  for (auto& r : replicas_) {
    bool any = false;
    for (unsigned leg = 0; leg < scenario_.config.ha_connections; ++leg) any = any || r->is_registered(leg);
    both = both && any;
  }
  for (unsigned leg = 0; leg < scenario_.config.ha_connections; ++leg)
    if (replicas_[1]->is_registered(leg) && first_edges.count(replicas_[1]->connections()[leg]->edge)) shared = true;
  stats_.replicas_registered_together += both;
  stats_.replicas_sharing_an_edge += shared;
}

}  // namespace warren::core::supervisor::test

#pragma once
// A supervisor on a manual clock, with helpers that drain its actions as
// strings (see to_string), so rule tests state exact action sequences. Its
// address policy is the bundled ip-rotation plugin's, with its defaults, and
// its fallback policy the bundled fallback plugin's, never probing unless a
// test asks (the rule tests that do not test the return see no probe).

#include "core/supervisor/supervisor.hpp"
#include "plugins/fallback/fallback.hpp"
#include "plugins/ip-rotation/rotation.hpp"
#include "test_policies.hpp"

#include <warren/sdk/testing.hpp>

#include <boost/asio/ip/address.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace warren::core::supervisor::test {

using namespace std::chrono_literals;
using Lines = std::vector<std::string>;

inline sdk::EdgeAddress edge(const char* ip, std::uint16_t port = 7844, std::string region = "") {
  sdk::EdgeAddress a;
  a.address = boost::asio::ip::make_address(ip);
  a.port = port;
  a.host = ip;
  a.region = std::move(region);
  return a;
}

inline std::vector<sdk::EdgeAddress> three_edges() {
  return {edge("10.0.0.1"), edge("10.0.0.2"), edge("10.0.0.3")};
}

/// Heartbeats far apart, so tests about other rules see none.
inline SupervisorConfig quiet(SupervisorConfig c = {}) {
  c.heartbeat_interval = std::chrono::hours(1);
  c.heartbeat_timeout = std::chrono::hours(3);
  return c;
}

/// The fallback plugin's keys with `max_failures`, never probing.
inline fallback::FallbackConfig no_probes(std::uint32_t max_failures = 3) {
  return {.probe_interval = sdk::Duration::zero(), .max_failures = max_failures};
}

struct Harness {
  explicit Harness(SupervisorConfig c = quiet(), sdk::Duration delay = 1s, std::optional<std::uint32_t> give_up = {},
                   ip_rotation::RotationConfig rotation = {}, fallback::FallbackConfig fallback_config = no_probes())
      : config(c),
        backoff(delay, give_up),
        address(std::move(rotation)),
        fallback(fallback_config),
        supervisor(config, backoff, random, &address, &fallback) {}

  /// Every pending action, in order.
  Lines drain() {
    Lines out;
    while (auto action = supervisor.poll_action()) {
      out.push_back(to_string(*action));
      actions.push_back(*action);
    }
    return out;
  }
  /// Moves the clock by `d`, firing every timer that falls due on the way
  /// at its own time, as a shell's timer would.
  Lines advance(sdk::Duration d) {
    const sdk::TimePoint target = now() + d;
    int guard = 0;
    while (auto next = supervisor.next_timeout()) {
      if (*next > target) break;
      // A deadline that handle_timeout does not move would spin forever.
      if (++guard > 100'000) throw std::runtime_error("the supervisor's timer does not advance");
      if (*next > now()) clock.advance(*next - now());
      supervisor.handle_timeout(now());
    }
    clock.advance(target - now());
    return drain();
  }
  sdk::TimePoint now() const { return clock.now(); }

  /// start + resolve (three edges) + leg 0 dialed and registered.
  void bring_up_leg0() {
    supervisor.handle_start(now());
    supervisor.handle_addresses_resolved(now(), three_edges());
    supervisor.handle_dial_succeeded(now(), 0);
    supervisor.handle_registered(now(), 0, {});
    drain();
  }

  SupervisorConfig config;
  FixedBackoff backoff;
  ip_rotation::IpRotationPolicy address;
  fallback::CountingFallback fallback;
  sdk::SeededRandom random{1};
  sdk::testing::ManualClock clock;
  Supervisor supervisor;
  std::vector<SupervisorAction> actions;
};

}  // namespace warren::core::supervisor::test

// Fallback to HTTP/2 when UDP is blocked (issue 10, acceptance points 1
// and 2), with real processes and kernel faults: `warren edge` in network
// namespace a listening with quic and http2 on one port, `warren connect`
// with `[[transport]]` quic then http2 and an echo backend in namespace b,
// nftables dropping UDP to the edge's port. Two ways to block: a drop on
// the connector's way out (its sendmsg fails with EPERM: the QUIC dial says
// quic_broken at once) and a drop on the edge's way in (no reply to any
// Initial: quic_broken at the 5 s handshake timeout). Either way the
// fallback policy moves the leg to http2 at once, not after 3 failed dials.
//
// Timings these cases rely on (defaults, not set here): the connector's
// QUIC handshake timeout is 5 s (DialOptions); the connector and the edge
// drop a silent leg after 8 s without heartbeats (the floor of
// SupervisorConfig::heartbeat_timeout and EdgeLegTimings; the edge assigns a
// 200 ms interval here). Without CAP_NET_ADMIN, `ip` or `nft` these cases
// exit with kSkipReturnCode, which CTest reports as SKIPPED.

#include "loopback_services.hpp"
#include "netns_tunnel.hpp"
#include "time_scale.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <regex>
#include <thread>

using namespace warren::test;
using namespace std::chrono_literals;
using Side = NetnsPair::Side;
using Direction = NetnsPair::Direction;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kHandshakeTimeout = 5s;      // the connector's QUIC dial (DialOptions default)
constexpr auto kHeartbeatTimeout = 8s;      // a silent leg is dropped after this, on both sides
constexpr std::uint16_t kAdminPort = 9101;  // namespace b is fresh: every port is free there

enum class Block { connector_out, edge_in };

const char* describe(Block block) {
  return block == Block::connector_out ? "dropped on the connector's way out (EPERM)"
                                       : "dropped on the edge's way in (no reply)";
}

void block_udp(NetnsPair& net, Block block) {
  if (block == Block::connector_out)
    net.drop_udp_to_port(Side::b, kNetnsEdgePort, Direction::out);
  else
    net.drop_udp_to_port(Side::a, kNetnsEdgePort, Direction::in);
}

std::uint64_t dropped(const NetnsPair& net, Block block) {
  return net.dropped_packets(block == Block::connector_out ? Side::b : Side::a);
}

std::chrono::milliseconds ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t);
}

/// Waits until the connector's log (stderr) has a match for `pattern`.
bool wait_in_log(const BackgroundProcess& process, const std::regex& pattern, std::chrono::milliseconds limit) {
  auto until = Clock::now() + limit;
  while (!std::regex_search(process.stderr_text(), pattern)) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::size_t count_matches(const std::string& text, const std::regex& pattern) {
  return static_cast<std::size_t>(std::distance(std::sregex_iterator(text.begin(), text.end(), pattern), {}));
}

void blocked_from_the_start(Block block) {
  auto net = make_pair_or_skip();
  TempDir dir;
  std::unique_ptr<EchoServer> echo;
  {
    InNamespace in_b(*net, Side::b);
    echo = std::make_unique<EchoServer>();
  }
  NamespacedEdge edge(*net, dir.path, /*http2=*/true);
  block_udp(*net, block);

  auto started = Clock::now();
  auto connector = start_namespaced_connector(*net, dir.path, edge, echo->port(),
                                              {.http2_fallback = true, .admin_port = kAdminPort});
  // Registered lines come only from http2 here: no QUIC handshake can finish.
  auto first = wait_in_log(*connector, std::regex(R"(leg \d: registered with edge)"), 20s);
  auto first_took = ms_since(started);
  auto both =
      first && wait_in_log(*connector, std::regex(R"(leg \d: registered with edge[\s\S]*leg \d: registered)"), 20s);
  auto both_took = ms_since(started);
  auto log = connector->stderr_text();
  INFO(log);
  REQUIRE(first);
  REQUIRE(both);
  WARN("UDP " << describe(block) << ": the first leg registered over http2 " << first_took.count()
              << " ms after the connector started, both " << both_took.count() << " ms");
  // The connector registers (is ready) within the handshake timeout + 2 s.
  CHECK(first_took <= kHandshakeTimeout + scaled(2s));
  // Each leg has its own fallback state: leg 1 starts on quic after leg 0
  // registered and pays its own verdict, at once for EPERM, one handshake
  // timeout for silence.
  CHECK(both_took <= (block == Block::connector_out ? scaled(2s) : 2 * kHandshakeTimeout + scaled(2s)));
  CHECK(legs_registered_over(*net, kAdminPort, "http2") == 2);
  CHECK(dropped(*net, block) > 0);
  std::string cause = block == Block::connector_out ? "sendmsg: Operation not permitted" : "no reply to any Initial";
  CHECK_THAT(log, Catch::Contains("UDP to " + NetnsPair::address_of(Side::a) + ":" + std::to_string(kNetnsEdgePort) +
                                  " looks blocked (" + cause));
  CHECK(count_matches(log, std::regex(R"(leg \d: moving from quic to http2 after quic_broken)")) == 2);

  InNamespace in_a(*net, Side::a);
  auto data = random_bytes((1 << 20) + 13, 77);
  auto back = echo_round_trip(kNetnsPublicPort, data, 20s);
  CHECK(back.size() == data.size());
  CHECK(sha256_hex(back) == sha256_hex(data));
}

/// One request of the client loop: when it started and ended, and whether
/// its echo came back whole.
struct Request {
  Clock::time_point start;
  Clock::time_point end;
  bool ok = false;
};

/// Echoes 16 KiB through the public port every ~50 ms from namespace a,
/// each with a 1 s deadline, until stopped.
class RequestLoop {
 public:
  explicit RequestLoop(const NetnsPair& net) : thread_([this, &net] { run(net); }) {}
  ~RequestLoop() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int successes_since(Clock::time_point t) const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(
        std::count_if(requests_.begin(), requests_.end(), [&](const Request& r) { return r.ok && r.start >= t; }));
  }
  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void run(const NetnsPair& net) {
    InNamespace in_a(net, Side::a);  // this thread's sockets connect from inside a
    for (std::uint64_t i = 0; !stop_; ++i) {
      auto data = random_bytes(16 << 10, 500 + i);
      Request r{Clock::now(), {}, false};
      try {
        r.ok = echo_round_trip(kNetnsPublicPort, data, 1s) == data;
      } catch (const std::exception&) {
        r.ok = false;
      }
      r.end = Clock::now();
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(r);
      }
      std::this_thread::sleep_for(50ms);  // the loop's pace, not a wait for an event
    }
  }

  mutable std::mutex mutex_;
  std::vector<Request> requests_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  auto until = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

void blocked_mid_run(Block block, std::chrono::milliseconds detection) {
  auto net = make_pair_or_skip();
  TempDir dir;
  std::unique_ptr<EchoServer> echo;
  {
    InNamespace in_b(*net, Side::b);
    echo = std::make_unique<EchoServer>();
  }
  NamespacedEdge edge(*net, dir.path, /*http2=*/true);
  auto connector = start_namespaced_connector(*net, dir.path, edge, echo->port(),
                                              {.http2_fallback = true, .admin_port = kAdminPort});
  REQUIRE(eventually([&] { return legs_registered_over(*net, kAdminPort, "quic") == 2; }, 15s));

  RequestLoop loop(*net);
  auto warm = Clock::now();
  REQUIRE(eventually([&] { return loop.successes_since(warm) >= 10; }, 10s));

  block_udp(*net, block);
  auto blocked = Clock::now();
  bool moved = eventually([&] { return legs_registered_over(*net, kAdminPort, "http2") == 2; }, detection + 10s);
  auto moved_after = ms_since(blocked);
  auto recovered = Clock::now();
  bool served = eventually([&] { return loop.successes_since(recovered) >= 20; }, 10s);
  loop.stop();
  auto log = connector->stderr_text();
  INFO(log);
  REQUIRE(moved);
  REQUIRE(served);

  // The outage as the clients saw it: the longest time between two
  // successful requests, and the requests that failed.
  auto requests = loop.requests();
  std::chrono::milliseconds gap{0};
  std::optional<Clock::time_point> last_ok;
  int failed = 0, failed_after_move = 0;
  for (const auto& r : requests) {
    if (!r.ok) {
      ++failed;
      if (r.start >= recovered) ++failed_after_move;
      continue;
    }
    if (last_ok) gap = std::max(gap, std::chrono::duration_cast<std::chrono::milliseconds>(r.end - *last_ok));
    last_ok = r.end;
  }
  WARN("UDP " << describe(block) << " mid-run: both legs on http2 after " << moved_after.count() << " ms; " << failed
              << " of " << requests.size() << " requests failed; longest gap " << gap.count() << " ms (detection "
              << detection.count() << " ms)");
  CHECK(dropped(*net, block) > 0);
  CHECK(gap <= detection + 3s);  // tolerance: redial, registration, a busy machine
  CHECK(failed_after_move == 0);
  CHECK(count_matches(log, std::regex(R"(leg \d: moving from quic to http2 after quic_broken)")) == 2);
}

}  // namespace

TEST_CASE("fallback: UDP dropped on the connector's way out from the start registers over http2 at once") {
  blocked_from_the_start(Block::connector_out);
}

TEST_CASE("fallback: UDP dropped on the edge's way in from the start registers over http2 after one handshake") {
  blocked_from_the_start(Block::edge_in);
}

TEST_CASE(
    "fallback: UDP dropped on the connector's way out mid-run moves legs to http2 within the heartbeat "
    "timeout") {
  // A dead leg is noticed by its heartbeats; the redial's Initial fails with EPERM.
  blocked_mid_run(Block::connector_out, kHeartbeatTimeout);
}

TEST_CASE(
    "fallback: UDP dropped on the edge's way in mid-run moves legs to http2 within heartbeat and handshake "
    "timeouts") {
  // A dead leg is noticed by its heartbeats; the redial hears nothing for a handshake timeout.
  blocked_mid_run(Block::edge_in, kHeartbeatTimeout + kHandshakeTimeout);
}

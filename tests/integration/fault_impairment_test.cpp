// The QUIC path through a seeded impairing relay (issue 11, item 1): a real
// `warren edge` and `warren connect` on loopback with ImpairedUdpRelay
// between them (tests/support/impaired_udp_relay.hpp), which drops,
// reorders and duplicates datagrams both ways, the handshake included.
// Each trial is a fresh edge, relay (its own seed) and connector; the
// figures come out as "fault-figure" lines (fault_trials.hpp) and
// tests/tools/fault_matrix.py runs each case 20 times.

#include "fault_trials.hpp"
#include "impaired_udp_relay.hpp"
#include "loopback_services.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <regex>

using namespace warren::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::size_t count_matches(const std::string& text, const std::regex& pattern) {
  return static_cast<std::size_t>(std::distance(std::sregex_iterator(text.begin(), text.end(), pattern), {}));
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string counts_text(const ImpairedUdpRelay::Counts& c) {
  return "datagrams=" + std::to_string(c.received) + " dropped=" + std::to_string(c.dropped) +
         " reordered=" + std::to_string(c.reordered) + " duplicated=" + std::to_string(c.duplicated);
}

}  // namespace

TEST_CASE("fault: 2 percent loss with reordering and duplication keeps 1 MiB echoes byte-exact") {
  const UdpImpairment impairment{.loss = 0.02, .reorder = 0.05, .reorder_delay = 5ms, .duplicate = 0.01};
  std::vector<double> echo_ms;
  auto trials = fault_trials(3);
  for (int trial = 0; trial < trials; ++trial) {
    auto seed = fault_seed() + static_cast<std::uint64_t>(trial);
    INFO("trial " << trial << " seed " << seed);
    TempDir dir;
    EchoServer echo;
    Edge edge(dir.path);
    ImpairedUdpRelay relay(edge.quic_port(), seed);
    relay.set(impairment);  // from the first Initial on
    Connector connector(dir.path, {.pin = edge.pin(), .edge_port = relay.port(), .backend_port = echo.port()});
    REQUIRE(connector.wait_registered(20s));
    REQUIRE(wait_legs_registered(connector, 2, 20s));  // both legs through the faults, before the echo

    // 1 MiB echoes until the relay has dropped, reordered and duplicated at
    // least one datagram: on loopback packets are 65,000 B after the
    // handshake, so one echo is only ~150 datagrams and may meet no duplicate.
    auto impaired = [&] {
      auto c = relay.counts();
      return c.dropped > 0 && c.reordered > 0 && c.duplicated > 0;
    };
    double took = 0;
    for (int round = 0; round < 16 && (round == 0 || !impaired()); ++round) {
      auto data = random_bytes(1 << 20, seed + 1000 * static_cast<std::uint64_t>(round));
      auto started = Clock::now();
      auto back = echo_round_trip(edge.public_port(), data, 30s);
      took = ms_since(started);
      REQUIRE(back.size() == data.size());
      REQUIRE(sha256_hex(back) == sha256_hex(data));
      echo_ms.push_back(took);
    }

    auto counts = relay.counts();
    auto log = connector.process().stderr_text();
    INFO(counts_text(counts) << "\n" << log);
    // The faults were real in every direction of trouble.
    CHECK(counts.dropped > 0);
    CHECK(counts.reordered > 0);
    CHECK(counts.duplicated > 0);
    // The legs rode through them: each registered once, none lost.
    CHECK(count_matches(log, std::regex("registered with edge")) == 2);
    CHECK(count_matches(log, std::regex("retrying in")) == 0);
    print_figure("loss_reorder_dup",
                 "seed=" + std::to_string(seed) + " ok=1 echo_ms=" + std::to_string(static_cast<long>(took)) + " " +
                     counts_text(counts) + " " + peak_rss_pairs(edge.process().pid(), connector.process().pid()));
  }
  WARN(echo_ms.size() << " x 1 MiB byte-exact in " << trials << " trials through 2 % loss, 5 % reordered (<= 5 ms), 1 % duplicated; echo p50 "
              << percentile(echo_ms, 50) << " ms, max " << percentile(echo_ms, 100) << " ms");
}

TEST_CASE("fault: 30 percent loss both ways during handshakes still registers the tunnel") {
  std::vector<double> register_ms;
  auto trials = fault_trials(2);
  for (int trial = 0; trial < trials; ++trial) {
    auto seed = fault_seed() + static_cast<std::uint64_t>(trial);
    INFO("trial " << trial << " seed " << seed);
    TempDir dir;
    EchoServer echo;
    Edge edge(dir.path);
    ImpairedUdpRelay relay(edge.quic_port(), seed);
    relay.set({.loss = 0.30});
    auto started = Clock::now();
    // Two legs: two handshakes and two registrations through the loss.
    Connector connector(dir.path, {.pin = edge.pin(), .edge_port = relay.port(), .backend_port = echo.port()});
    bool registered = connector.wait_registered(25s);
    auto took = ms_since(started);
    bool both = registered && wait_legs_registered(connector, 2, 25s);
    auto both_took = ms_since(started);
    auto counts = relay.counts();
    auto log = connector.process().stderr_text();
    INFO(counts_text(counts) << "\n" << log);
    REQUIRE(registered);
    CHECK(both);
    CHECK(counts.dropped > 0);
    register_ms.push_back(took);
    auto failed_dials = count_matches(log, std::regex("retrying in"));

    // Loss lifted: the tunnel it registered carries bytes.
    relay.set({});
    auto data = random_bytes(64 << 10, seed);
    bool echoed = echo_round_trip(edge.public_port(), data, 15s) == data;
    CHECK(echoed);
    bool ok = both && counts.dropped > 0 && echoed;
    print_figure("handshake_loss_30", "seed=" + std::to_string(seed) + " ok=" + std::to_string(ok) +
                                          " register_ms=" + std::to_string(static_cast<long>(took)) +
                                          " both_legs_ms=" + std::to_string(static_cast<long>(both_took)) +
                                          " failed_dials=" + std::to_string(failed_dials) + " " + counts_text(counts) +
                                          " " + peak_rss_pairs(edge.process().pid(), connector.process().pid()));
  }
  WARN(trials << " registrations through 30 % loss both ways: p50 " << percentile(register_ms, 50) << " ms, max "
              << percentile(register_ms, 100) << " ms");
}

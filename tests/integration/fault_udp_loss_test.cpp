// Kernel faults on the QUIC path (issue 10, acceptance point 3): a real
// `warren edge` in network namespace a (its public port there), a real
// `warren connect` and an echo backend in namespace b, the public client in
// a, and nftables rules that drop UDP between them (netns_tunnel.hpp). Without CAP_NET_ADMIN,
// `ip` or `nft` these cases exit with kSkipReturnCode, which CTest reports
// as SKIPPED.

#include "loopback_services.hpp"
#include "netns_tunnel.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <regex>

using namespace warren::test;
using namespace std::chrono_literals;
using Side = NetnsPair::Side;
using Direction = NetnsPair::Direction;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint16_t kPublicPort = kNetnsPublicPort;

std::size_t count_matches(const std::string& text, const std::regex& pattern) {
  return static_cast<std::size_t>(std::distance(std::sregex_iterator(text.begin(), text.end(), pattern), {}));
}

}  // namespace

TEST_CASE("fault: 2 percent random UDP loss both ways keeps QUIC up and 20 echoes of 1 MiB byte-exact") {
  auto net = make_pair_or_skip();
  TempDir dir;
  std::unique_ptr<EchoServer> echo;
  {
    InNamespace in_b(*net, Side::b);
    echo = std::make_unique<EchoServer>();
  }
  // HTTP/2 is there to fall back to, on the edge and in the connector's
  // [[transport]] list: loss alone must not send a leg to it.
  NamespacedEdge edge(*net, dir.path, /*http2=*/true);
  // Loss from the start, on the edge's UDP port, both ways: the handshake
  // and the registration go through it too.
  net->drop_random_udp(Side::a, edge.quic_port, 2, Direction::both);
  auto connector = start_namespaced_connector(*net, dir.path, edge, echo->port(), {.http2_fallback = true});
  REQUIRE(connector->wait_for_line(std::regex(R"(^tunnel web \S+$)"), 20s));

  auto started = Clock::now();
  for (int i = 0; i < 20; ++i) {
    auto data = random_bytes(1 << 20, 1000 + static_cast<std::uint64_t>(i));
    std::vector<std::uint8_t> back;
    {
      InNamespace in_a(*net, Side::a);
      back = echo_round_trip(kPublicPort, data, 20s);
    }
    INFO("echo " << i);
    REQUIRE(back.size() == data.size());
    REQUIRE(sha256_hex(back) == sha256_hex(data));
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  auto dropped = net->dropped_packets(Side::a);
  WARN("20 x 1 MiB through 2 % loss both ways in " << took.count() << " ms; nftables dropped " << dropped
                                                   << " packets");
  // The loss was real, and the legs never went down: each registered once.
  CHECK(dropped > 0);
  CHECK(connector->running());
  auto log = connector->stderr_text();
  INFO(log);
  CHECK(count_matches(log, std::regex("registered with edge")) == 2);
  CHECK(count_matches(log, std::regex(R"(leg \d+: lost|retry)")) == 0);
  CHECK(count_matches(log, std::regex(R"(moving from|looks blocked)")) == 0);  // no leg went to http2
}

TEST_CASE("fault: UDP to the edge blackholed fails the dial within the handshake timeout and registers once cleared") {
  auto net = make_pair_or_skip();
  TempDir dir;
  std::unique_ptr<EchoServer> echo;
  {
    InNamespace in_b(*net, Side::b);
    echo = std::make_unique<EchoServer>();
  }
  NamespacedEdge edge(*net, dir.path);
  net->drop_udp_to_port(Side::a, edge.quic_port, Direction::in);

  // With --no-reconnect the first failed dial ends the run: the QUIC
  // handshake timeout (5 s) plus slack for a loaded machine. Nothing came
  // back, so the transport calls UDP blocked (quic_broken), not a timeout.
  auto started = Clock::now();
  auto once = start_namespaced_connector(*net, dir.path, edge, echo->port(),
                                         {.name = "once", .extra_args = {"--no-reconnect"}});
  auto code = once->wait_exit(12s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  INFO(once->stderr_text());
  REQUIRE(code);
  CHECK(*code == 1);
  CHECK(took >= 4s);  // it waited for the handshake, not for something else
  CHECK_THAT(once->stderr_text(), Catch::Contains("cannot reach the edge at " + NetnsPair::address_of(Side::a) + ":" +
                                                  std::to_string(edge.quic_port) + ": QUIC blocked on this path"));
  CHECK(net->dropped_packets(Side::a) > 0);
  WARN("blackholed dial failed and exited after " << took.count() << " ms");

  // A reconnecting connector keeps trying while the rule holds, and
  // registers once it is gone.
  auto retrying = start_namespaced_connector(*net, dir.path, edge, echo->port(), {.name = "retrying"});
  CHECK_FALSE(retrying->wait_for_line(std::regex(R"(^tunnel web \S+$)"), 6s));
  CHECK(retrying->running());
  net->clear_rules(Side::a);
  auto cleared = Clock::now();
  REQUIRE(retrying->wait_for_line(std::regex(R"(^tunnel web \S+$)"), 15s));
  auto recovered = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - cleared);
  WARN("registered " << recovered.count() << " ms after the rule was cleared");

  InNamespace in_a(*net, Side::a);
  auto data = random_bytes(64 << 10, 7);
  CHECK(echo_round_trip(kPublicPort, data, 10s) == data);
}

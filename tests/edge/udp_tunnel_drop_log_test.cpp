// What the edge logs about a udp tunnel's drops: a warning per reason that
// grew, naming the tunnel, how many and what to do, at most one per reason
// per 10 s (times passed to log_drops, no sleeps).

#include "core/edge/udp_tunnel_drop_log.hpp"

#include "captured_log.hpp"
#include "udp_tunnel_fixture.hpp"

using namespace warren;
using namespace warren::test::udp_tunnel;

TEST_CASE("udp tunnel: drops are logged per reason with the limit to raise, then at most once per 10 s") {
  core::udp::FlowSettings settings;
  settings.max_flows = 1;
  Fixture f(settings);
  test::CapturedLog log;
  auto alice = f.client();
  f.send(alice, "no leg yet");
  f.run_until([&] { return f.tunnel->stats().dropped_no_leg == 1; });
  auto& leg = f.add_leg(1);
  auto bob = f.client();
  f.request_from(leg, bob, "first flow");
  auto carol = f.client();
  f.send(carol, "past max_flows");
  f.run_until([&] { return f.tunnel->stats().dropped[static_cast<std::size_t>(DropReason::table_full)] == 1; });

  auto t0 = sdk::Clock::now();
  f.tunnel->log_drops(t0);
  auto no_leg = log.lines_with("(no_leg)");
  REQUIRE(no_leg.size() == 1);
  CHECK(no_leg[0].starts_with("warning tunnel 'dns': 1 datagram dropped in the last "));
  CHECK_THAT(no_leg[0], Catch::EndsWith("(no_leg): no connector leg is registered to carry a new client's flow: is "
                                        "the connector up?"));
  auto full = log.lines_with("(table_full)");
  REQUIRE(full.size() == 1);
  CHECK_THAT(full[0], Catch::EndsWith("(table_full): the tunnel holds max_flows = 1 flows, so new clients' datagrams "
                                      "are dropped; raise max_flows in its [[tunnels]] table"));

  f.send(carol, "again");
  f.send(carol, "and again");
  f.run_until([&] { return f.tunnel->stats().dropped[static_cast<std::size_t>(DropReason::table_full)] == 3; });
  f.tunnel->log_drops(t0 + 9s);
  CHECK(log.lines_with("(table_full)").size() == 1);  // held back
  f.tunnel->log_drops(t0 + 10s);
  auto lines = log.lines_with("(table_full)");
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[1], Catch::StartsWith("warning tunnel 'dns': 2 datagrams dropped in the last 10 s (table_full)"));
  CHECK(log.lines_with("dropped").size() == 3);  // no_leg said once: it did not grow
}

TEST_CASE("udp tunnel: every drop reason of /metrics has advice in the log") {
  core::udp::FlowSettings settings;
  for (const auto& total : core::udp_tunnel_drop_totals({})) {
    INFO(total.reason);
    CHECK_FALSE(core::udp_tunnel_drop_advice(total.reason, settings).empty());
  }
  CHECK_THAT(core::udp_tunnel_drop_advice("socket_buffer", settings),
             Catch::Contains("the edge is not reading fast enough; raise net.core.rmem_max"));
}

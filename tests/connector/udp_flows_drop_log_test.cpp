// What the connector logs about a udp tunnel's drops: a warning per reason
// that grew, at most one per 10 s, with how many and what to do (times
// passed to log_drops, no sleeps).

#include "core/connector/udp_flows_drop_log.hpp"

#include "captured_log.hpp"
#include "core/connector/udp_flows.hpp"
#include "fake_datagram_backend.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

namespace warren::core {
namespace {

using namespace std::chrono_literals;
using test::bytes;

constexpr auto malformed_advice =
    "(malformed): frames from the edge that did not decode: are the edge and the connector the same version?";

TEST_CASE("udp flows: dropped frames are logged once, then at most once per 10 s with the count since",
          "[connector][udp_flows]") {
  boost::asio::io_context io;
  auto backend = std::make_shared<test::FakeDatagramBackend>(io);
  auto flows = std::make_shared<UdpFlows>(io, [&] { return backend; });
  test::CapturedLog log;
  flows->log_drops(sdk::Clock::now());  // before configure: nothing is counted yet
  flows->configure(30s);
  flows->handle_frame(1, bytes("\x01"));  // a truncated request
  auto t0 = sdk::Clock::now();
  flows->log_drops(t0);
  auto first = log.lines_with("(malformed)");
  REQUIRE(first.size() == 1);
  CHECK(first[0].starts_with("warning udp tunnel: 1 datagram dropped in the last "));
  CHECK_THAT(first[0], Catch::EndsWith(malformed_advice));

  flows->handle_frame(1, bytes("\x02"));
  flows->handle_frame(1, {});
  flows->log_drops(t0 + 5s);
  CHECK(log.lines_with("(malformed)").size() == 1);  // held back
  flows->log_drops(t0 + 10s);
  auto lines = log.lines_with("(malformed)");
  REQUIRE(lines.size() == 2);
  CHECK(lines[1] == std::string("warning udp tunnel: 2 datagrams dropped in the last 10 s ") + malformed_advice);
  CHECK(log.lines_with("dropped").size() == 2);  // no other reason grew
}

TEST_CASE("udp flows: every drop reason of /metrics has advice in the log", "[connector][udp_flows]") {
  for (const auto& total : udp_flows_drop_totals({}, {})) {
    INFO(total.reason);
    CHECK_FALSE(udp_flows_drop_advice(total.reason).empty());
  }
  CHECK_THAT(udp_flows_drop_advice("socket_buffer"),
             Catch::Contains("the connector is not reading fast enough; raise net.core.rmem_max"));
}

}  // namespace
}  // namespace warren::core

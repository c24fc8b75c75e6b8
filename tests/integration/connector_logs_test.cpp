// One event, one line: a connector refusing an edge's certificate says what
// did not match once, and that it stops once.

#include "loopback_services.hpp"
#include "process.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <regex>

using namespace warren::test;
using namespace std::chrono_literals;

TEST_CASE("a pin mismatch is said once, with both pins, and the stop once") {
  TempDir dir;
  EchoServer echo;
  Edge edge(dir.path);
  std::string wrong = "sha256:" + std::string(64, 'b');
  Connector connector(dir.path,
                      {.pin = wrong, .edge_port = edge.quic_port(), .backend_port = echo.port(), .ha_connections = 1});
  auto code = connector.process().wait_exit(10s);
  REQUIRE(code);
  CHECK(*code == 3);
  auto err = connector.process().stderr_text();
  INFO(err);
  std::size_t mismatch = 0, stopping = 0;
  for (const auto& line : lines(err)) {
    mismatch += std::regex_search(line, std::regex("does not match|mismatch"));
    stopping += line.find("stopping") != std::string::npos;
  }
  CHECK(mismatch == 1);
  CHECK(stopping == 1);
  CHECK_THAT(err, Catch::Contains("does not match edge_fingerprint: expected " + wrong + ", got " + edge.pin()));
}

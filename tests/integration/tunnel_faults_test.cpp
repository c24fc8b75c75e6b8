// Real faults: the edge killed and restarted, --no-reconnect, and a
// graceful stop on SIGTERM.

#include "loopback_services.hpp"
#include "time_scale.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <csignal>
#include <optional>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

/// Retries an echo until it works or `deadline` passes; how long it took.
std::optional<std::chrono::milliseconds> echo_works_within(std::uint16_t port, std::chrono::milliseconds deadline) {
  auto start = std::chrono::steady_clock::now();
  auto data = random_bytes(64 * 1024, 5);
  while (std::chrono::steady_clock::now() - start < deadline) {
    try {
      if (echo_round_trip(port, data, 2s) == data)
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("after the edge is killed and restarted, the connector comes back by itself") {
  TempDir dir;
  EchoServer echo;
  auto edge = std::make_unique<Edge>(dir.path);
  auto quic_port = edge->quic_port();
  auto pin = edge->pin();
  Connector connector(dir.path, {.pin = pin, .edge_port = quic_port, .backend_port = echo.port()});
  REQUIRE(connector.wait_registered(10s));
  REQUIRE(echo_works_within(edge->public_port(), 5s));

  REQUIRE(edge->process().stop(SIGKILL, 5s) == -1);
  edge.reset();
  // Same port, same state_dir: the same certificate, so the pin still holds.
  edge = std::make_unique<Edge>(dir.path, EdgeOptions{.listen_port = quic_port});
  CHECK(edge->pin() == pin);
  auto took = echo_works_within(edge->public_port(), 15s);
  INFO(connector.process().stderr_text());
  REQUIRE(took);
  CHECK(*took < scaled(10s));
  CHECK(connector.process().running());
}

TEST_CASE("with --no-reconnect the connector exits 1 when the edge goes away") {
  TempDir dir;
  EchoServer echo;
  auto edge = std::make_unique<Edge>(dir.path);
  Connector connector(dir.path, {.pin = edge->pin(), .edge_port = edge->quic_port(), .backend_port = echo.port(),
                                 .extra_args = "--no-reconnect"});
  REQUIRE(connector.wait_registered(10s));
  edge->process().stop(SIGKILL, 5s);
  // The heartbeat deadline (8 s) notices a silent edge at the latest.
  auto code = connector.process().wait_exit(15s);
  INFO(connector.process().stderr_text());
  REQUIRE(code);
  CHECK(*code == 1);
}

TEST_CASE("SIGTERM unregisters, drains and exits 0") {
  EchoTunnel tunnel;
  auto started = std::chrono::steady_clock::now();
  auto code = tunnel.connector.process().stop(SIGTERM, 10s);
  INFO(tunnel.connector.process().stderr_text());
  REQUIRE(code);
  CHECK(*code == 0);
  CHECK(std::chrono::steady_clock::now() - started < 3s);  // nothing open: no need to wait out the grace period
  CHECK_THAT(tunnel.edge.process().stderr_text(), Catch::Contains("unregistered"));
}

TEST_CASE("when the connector dies, the edge resets its open streams instead of leaving them hanging") {
  EchoTunnel tunnel;
  // A public connection that stays open: one echoed exchange, no half-close.
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket client(io);
  client.connect({boost::asio::ip::make_address("127.0.0.1"), tunnel.public_port()});
  boost::asio::write(client, boost::asio::buffer(std::string("hello")));
  std::string reply(5, '\0');
  boost::asio::read(client, boost::asio::buffer(reply));
  REQUIRE(reply == "hello");

  tunnel.connector.process().stop(SIGKILL, 5s);
  auto killed = std::chrono::steady_clock::now();
  // The edge notices the silent leg at its heartbeat deadline (8 s here) and
  // must then end the public connection; the client's read returns.
  std::optional<boost::system::error_code> ended;
  char byte;
  client.async_read_some(boost::asio::buffer(&byte, 1), [&](boost::system::error_code ec, std::size_t) { ended = ec; });
  io.run_for(20s);
  REQUIRE(ended);
  CHECK(*ended);
  CHECK(std::chrono::steady_clock::now() - killed < 15s);
}

// Refusals a person must understand, and a malformed control frame that
// closes one connection while the edge keeps serving the others.

#include "loopback_services.hpp"
#include "tunnel_fixture.hpp"

#include "core/plugin/plugin_loader.hpp"

#include <warren/sdk/testing.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

using namespace warren;
using namespace warren::test;
using namespace std::chrono_literals;

TEST_CASE("a wrong token exits 3 within 2 s with a sentence") {
  TempDir dir;
  EchoServer echo;
  Edge edge(dir.path);
  auto started = std::chrono::steady_clock::now();
  Connector connector(dir.path, {.token = "wrong", .pin = edge.pin(), .edge_port = edge.quic_port(),
                                 .backend_port = echo.port()});
  auto code = connector.process().wait_exit(5s);
  REQUIRE(code);
  CHECK(*code == 3);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
  CHECK_THAT(connector.process().stderr_text(),
             Catch::Contains("the edge refused this tunnel: the edge does not accept this tunnel id and token"));
  CHECK_THAT(edge.metrics(), Catch::Contains("warren_registrations_refused_total{reason=\"auth_failed\"} 1"));
}

TEST_CASE("a wrong pin is refused with a clear error") {
  TempDir dir;
  EchoServer echo;
  Edge edge(dir.path);
  std::string wrong = "sha256:" + std::string(64, 'a');
  Connector connector(dir.path, {.pin = wrong, .edge_port = edge.quic_port(), .backend_port = echo.port()});
  auto code = connector.process().wait_exit(5s);
  REQUIRE(code);
  CHECK(*code == 3);
  auto err = connector.process().stderr_text();
  CHECK_THAT(err, Catch::Contains("does not match edge_fingerprint"));
}

TEST_CASE("a malformed control frame closes that connection while the edge serves the others") {
  EchoTunnel tunnel;
  auto& edge = tunnel.edge;

  // A hand-made client: the real QUIC plugin, then garbage on the control stream.
  boost::asio::io_context io;
  sdk::testing::CapturingLogger logger;
  sdk::PluginContext context{io.get_executor(), logger};
  core::PluginLoader loader({WARREN_PLUGIN_DIR});
  auto found = loader.find(sdk::PluginKind::transport, "quic");
  REQUIRE(std::holds_alternative<core::LoadedPlugin>(found));
  sdk::Diagnostics diagnostics;
  auto quic = loader.create<sdk::Transport>(std::get<core::LoadedPlugin>(found), sdk::testing::TableBuilder().table(),
                                            context, diagnostics);
  REQUIRE(quic);
  sdk::DialOptions options;
  options.address = boost::asio::ip::make_address("127.0.0.1");
  options.port = edge.quic_port();
  options.server_name = "127.0.0.1";
  options.verify.insecure = true;
  sdk::ConnectionPtr connection;
  sdk::ByteStreamPtr stream;
  std::optional<sdk::error_code> outcome;
  const std::vector<std::uint8_t> garbage{0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 1, 2, 3, 4};
  quic->async_dial(options, [&](sdk::error_code ec, sdk::ConnectionPtr c) {
    REQUIRE_FALSE(ec);
    connection = std::move(c);
    connection->async_open_stream([&](sdk::error_code e, sdk::ByteStreamPtr s) {
      REQUIRE_FALSE(e);
      stream = std::move(s);
      boost::asio::async_write(*stream, boost::asio::buffer(garbage), [&](sdk::error_code, std::size_t) {});
      static std::uint8_t byte;
      stream->async_read_some(boost::asio::buffer(&byte, 1), [&](sdk::error_code r, std::size_t) { outcome = r; });
    });
  });
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!outcome && std::chrono::steady_clock::now() < deadline) io.run_one_for(50ms);
  REQUIRE(outcome);
  CHECK(*outcome);  // the edge closed the connection instead of answering

  CHECK(edge.process().running());
  CHECK_THAT(edge.metrics(), Catch::Contains("warren_protocol_errors_total 1"));
  CHECK_THAT(edge.process().stderr_text(), Catch::Contains("malformed control frame"));
  auto data = random_bytes(100 * 1024, 11);
  CHECK(echo_round_trip(edge.public_port(), data, 10s) == data);  // the real tunnel still works
  stream.reset();
  connection.reset();
  quic.reset();
}

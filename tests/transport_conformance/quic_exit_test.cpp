// QUIC only: a process that stops while handshakes are in progress leaves
// nothing behind. `warren edge` and `warren connect` stop their loop, destroy
// the server (listeners closed) and the plugins (dials aborted), then the
// io_context, whose posted handlers never run. A connection in its handshake
// held itself until a posted handler told the handshake's outcome; that
// handler held it only weakly, so it owned itself forever, with its
// UdpEndpoint (a socket and 512 KiB of receive slots): LeakSanitizer's report
// at the exit of an edge or connector in the sanitized suite. Counted here in
// open descriptors, so the normal build sees it too.
// The same for established connections: a connection keeps its users'
// handlers (a stream's pending read), which often own the stream and the
// connection; LiveConnections drops them when the io_context shuts down.

#include "plugin_harness.hpp"
#include "udp_relay.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/write.hpp>

#include <array>
#include <filesystem>
#include <memory>
#include <utility>

namespace warren::test {
namespace {

using namespace std::chrono_literals;

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

/// One edge and one connector whose handshake cannot finish (the relay drops
/// the edge's replies), torn down in warren's order: the loop is not run
/// after the listener and the transports are gone.
void stop_during_handshakes() {
  LoadedPlugin plugin("quic");
  boost::asio::io_context io;
  sdk::testing::CapturingLogger logger;
  sdk::PluginContext context{io.get_executor(), logger};
  auto cert = make_self_signed("warren test edge", {"localhost", "127.0.0.1"});
  sdk::Diagnostics diagnostics;
  auto table = sdk::testing::TableBuilder("transport").table();
  auto edge = plugin.create(table, context, diagnostics);
  auto connector = plugin.create(table, context, diagnostics);
  REQUIRE(diagnostics.ok());

  sdk::ListenOptions listen;
  listen.address = boost::asio::ip::make_address("127.0.0.1");
  listen.cert_pem = cert.cert_pem;
  listen.key_pem = cert.key_pem;
  sdk::error_code ec;
  auto listener = edge->listen(listen, ec);
  REQUIRE(listener);
  bool accepted = false;
  listener->async_accept([&](sdk::error_code, sdk::ConnectionPtr) { accepted = true; });

  auto relay = std::make_unique<UdpRelay>(io, listener->local_port());
  relay->mute_server(true);
  sdk::DialOptions dial;
  dial.address = boost::asio::ip::make_address("127.0.0.1");
  dial.port = relay->port();
  dial.server_name = "localhost";
  dial.verify.pin_sha256 = cert.pin_sha256;
  bool dialed = false;
  connector->async_dial(dial, [&](sdk::error_code, sdk::ConnectionPtr) { dialed = true; });
  auto deadline = std::chrono::steady_clock::now() + 300ms;
  while (std::chrono::steady_clock::now() < deadline) io.run_one_until(deadline);
  REQUIRE(relay->forwarded() > 0);  // the Initial reached the edge: both sides are mid-handshake
  REQUIRE_FALSE(dialed);
  REQUIRE_FALSE(accepted);

  io.stop();
  relay.reset();
  listener.reset();
  connector.reset();
  edge.reset();
}  // ~io_context: the handlers posted by the closes above are destroyed, not run

/// What a leg's control channel is to its handlers: the connection and a
/// stream, owned by the read handler it keeps pending.
struct Reader {
  sdk::ConnectionPtr connection;
  sdk::ByteStreamPtr stream;
  std::array<char, 16> buffer{};
};
void read_forever(std::shared_ptr<Reader> reader) {
  auto& stream = *reader->stream;
  stream.async_read_some(boost::asio::buffer(reader->buffer), [reader](sdk::error_code, std::size_t) {});
}

/// An established connection, each end owned only by a read it keeps
/// pending, torn down in warren's order (the loop not run after).
void stop_with_reads_pending() {
  LoadedPlugin plugin("quic");
  boost::asio::io_context io;
  sdk::testing::CapturingLogger logger;
  sdk::PluginContext context{io.get_executor(), logger};
  auto cert = make_self_signed("warren test edge", {"localhost", "127.0.0.1"});
  sdk::Diagnostics diagnostics;
  auto table = sdk::testing::TableBuilder("transport").table();
  auto edge = plugin.create(table, context, diagnostics);
  auto connector = plugin.create(table, context, diagnostics);
  REQUIRE(diagnostics.ok());

  sdk::ListenOptions listen;
  listen.address = boost::asio::ip::make_address("127.0.0.1");
  listen.cert_pem = cert.cert_pem;
  listen.key_pem = cert.key_pem;
  sdk::error_code ec;
  auto listener = edge->listen(listen, ec);
  REQUIRE(listener);
  auto server = std::make_shared<Reader>();
  auto client = std::make_shared<Reader>();
  listener->async_accept([&](sdk::error_code, sdk::ConnectionPtr c) { server->connection = std::move(c); });
  sdk::DialOptions dial;
  dial.address = boost::asio::ip::make_address("127.0.0.1");
  dial.port = listener->local_port();
  dial.server_name = "localhost";
  dial.verify.pin_sha256 = cert.pin_sha256;
  connector->async_dial(dial, [&](sdk::error_code, sdk::ConnectionPtr c) { client->connection = std::move(c); });
  auto run_until = [&io](auto done) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_until(deadline);
    return done();
  };
  REQUIRE(run_until([&] { return client->connection && server->connection; }));
  client->connection->async_open_stream([&](sdk::error_code, sdk::ByteStreamPtr s) { client->stream = std::move(s); });
  REQUIRE(run_until([&] { return client->stream != nullptr; }));
  boost::asio::async_write(*client->stream, boost::asio::buffer("x", 1), [](sdk::error_code, std::size_t) {});
  server->connection->async_accept_stream([&](sdk::error_code, sdk::ByteStreamPtr s) { server->stream = std::move(s); });
  REQUIRE(run_until([&] { return server->stream != nullptr; }));
  char first = 0;
  bool read = false;
  server->stream->async_read_some(boost::asio::buffer(&first, 1), [&](sdk::error_code, std::size_t) { read = true; });
  REQUIRE(run_until([&] { return read; }));
  read_forever(std::exchange(server, nullptr));
  read_forever(std::exchange(client, nullptr));

  io.stop();
  listener.reset();
  connector.reset();
  edge.reset();
}  // ~io_context: the reads' handlers are destroyed, and with them what they own

TEST_CASE("quic: stopping with handshakes in progress frees their connections and sockets", "[quic][lifecycle]") {
  stop_during_handshakes();  // first use: whatever the libraries open once
  auto before = open_descriptors();
  stop_during_handshakes();
  stop_during_handshakes();
  CHECK(open_descriptors() == before);
}

TEST_CASE("quic: stopping with reads pending on established connections frees them and their sockets",
          "[quic][lifecycle]") {
  stop_with_reads_pending();
  auto before = open_descriptors();
  stop_with_reads_pending();
  stop_with_reads_pending();
  CHECK(open_descriptors() == before);
}

}  // namespace
}  // namespace warren::test


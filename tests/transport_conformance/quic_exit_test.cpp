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

/// A QUIC edge listening and a connector, on a loop of their own, torn down
/// in warren's order by stop(): the loop is not run after the listener and
/// the transports are gone. Members go in reverse: the loop before the library.
struct Ends {
  LoadedPlugin plugin{"quic"};
  boost::asio::io_context io;
  sdk::testing::CapturingLogger logger;
  sdk::PluginContext context{io.get_executor(), logger};
  SelfSignedPair cert = make_self_signed("warren test edge", {"localhost", "127.0.0.1"});
  core::PluginPtr<sdk::Transport> edge;
  core::PluginPtr<sdk::Transport> connector;
  sdk::ListenerPtr listener;

  Ends() {
    sdk::Diagnostics diagnostics;
    auto table = sdk::testing::TableBuilder("transport").table();
    edge = plugin.create(table, context, diagnostics);
    connector = plugin.create(table, context, diagnostics);
    REQUIRE(diagnostics.ok());
    sdk::ListenOptions listen;
    listen.address = boost::asio::ip::make_address("127.0.0.1");
    listen.cert_pem = cert.cert_pem;
    listen.key_pem = cert.key_pem;
    sdk::error_code ec;
    listener = edge->listen(listen, ec);
    REQUIRE(listener);
  }
  sdk::DialOptions dial_to(std::uint16_t port) const {
    sdk::DialOptions dial;
    dial.address = boost::asio::ip::make_address("127.0.0.1");
    dial.port = port;
    dial.server_name = "localhost";
    dial.verify.pin_sha256 = cert.pin_sha256;
    return dial;
  }
  template <typename Predicate>
  bool run_until(Predicate done, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_until(deadline);
    return done();
  }
  void stop() {
    io.stop();
    listener.reset();
    connector.reset();
    edge.reset();
  }
};  // ~io_context: the handlers posted by stop()'s closes are destroyed, not run

/// One edge and one connector whose handshake cannot finish (the relay drops
/// the edge's replies).
void stop_during_handshakes() {
  Ends ends;
  bool accepted = false;
  ends.listener->async_accept([&](sdk::error_code, sdk::ConnectionPtr) { accepted = true; });
  auto relay = std::make_unique<UdpRelay>(ends.io, ends.listener->local_port());
  relay->mute_server(true);
  bool dialed = false;
  ends.connector->async_dial(ends.dial_to(relay->port()), [&](sdk::error_code, sdk::ConnectionPtr) { dialed = true; });
  ends.run_until([] { return false; }, 300ms);
  REQUIRE(relay->forwarded() > 0);  // the Initial reached the edge: both sides are mid-handshake
  REQUIRE_FALSE(dialed);
  REQUIRE_FALSE(accepted);
  ends.io.stop();
  relay.reset();
  ends.stop();
}

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

/// An established connection, each end owned only by a read it keeps pending.
void stop_with_reads_pending() {
  Ends ends;
  auto server = std::make_shared<Reader>();
  auto client = std::make_shared<Reader>();
  ends.listener->async_accept([&](sdk::error_code, sdk::ConnectionPtr c) { server->connection = std::move(c); });
  ends.connector->async_dial(ends.dial_to(ends.listener->local_port()),
                             [&](sdk::error_code, sdk::ConnectionPtr c) { client->connection = std::move(c); });
  REQUIRE(ends.run_until([&] { return client->connection && server->connection; }, 5s));
  client->connection->async_open_stream([&](sdk::error_code, sdk::ByteStreamPtr s) { client->stream = std::move(s); });
  REQUIRE(ends.run_until([&] { return client->stream != nullptr; }, 5s));
  boost::asio::async_write(*client->stream, boost::asio::buffer("x", 1), [](sdk::error_code, std::size_t) {});
  server->connection->async_accept_stream([&](sdk::error_code, sdk::ByteStreamPtr s) { server->stream = std::move(s); });
  REQUIRE(ends.run_until([&] { return server->stream != nullptr; }, 5s));
  char first = 0;
  bool read = false;
  server->stream->async_read_some(boost::asio::buffer(&first, 1), [&](sdk::error_code, std::size_t) { read = true; });
  REQUIRE(ends.run_until([&] { return read; }, 5s));
  read_forever(std::exchange(server, nullptr));
  read_forever(std::exchange(client, nullptr));
  ends.stop();
}

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


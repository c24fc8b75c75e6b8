// QUIC only: a process that stops while handshakes are in progress leaves
// nothing behind. `warren edge` and `warren connect` stop their loop, destroy
// the server (listeners closed) and the plugins (dials aborted), then the
// io_context, whose posted handlers never run. A connection in its handshake
// held itself until a posted handler told the handshake's outcome; that
// handler held it only weakly, so it owned itself forever, with its
// UdpEndpoint (a socket and 512 KiB of receive slots): LeakSanitizer's report
// at the exit of an edge or connector in the sanitized suite. Counted here in
// open descriptors, so the normal build sees it too.

#include "plugin_harness.hpp"
#include "udp_relay.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

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

TEST_CASE("quic: stopping with handshakes in progress frees their connections and sockets", "[quic][lifecycle]") {
  stop_during_handshakes();  // first use: whatever the libraries open once
  auto before = open_descriptors();
  stop_during_handshakes();
  stop_during_handshakes();
  CHECK(open_descriptors() == before);
}

}  // namespace
}  // namespace warren::test

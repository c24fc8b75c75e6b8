// Conformance, verification and configuration: how a transport checks the
// edge, and how it reads its table.

#include "plugin_harness.hpp"
#include "stream_helpers.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/ip/udp.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace warren::test {
namespace {

// The binary tests one transport (warren_add_transport_conformance).
#define EACH_TRANSPORT() transport_under_test()

/// A file that disappears with the test case.
struct TempFile {
  explicit TempFile(const std::string& content) {
    path = std::filesystem::temp_directory_path() /
           ("warren-conformance-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".pem");
    std::ofstream(path) << content;
  }
  ~TempFile() { std::filesystem::remove(path); }
  std::filesystem::path path;
  static inline int counter = 0;
};

const std::array<std::uint8_t, 0> junk_empty{};

TEST_CASE("a certificate pin mismatch fails the dial with certificate_mismatch", "[conformance][security]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  h.listen();
  auto options = h.dial_options(h.listener->local_port());
  auto wrong = h.cert.pin_sha256;
  wrong[0] ^= 0xff;
  options.verify.pin_sha256 = wrong;
  auto [ec, connection] = h.dial(options);
  CHECK(ec == sdk::make_error_code(sdk::errc::certificate_mismatch));
  CHECK_FALSE(connection);
  // The log names both pins so an operator can see which is which.
  CHECK(h.logged(sdk::format_certificate_pin(wrong)));
  CHECK(h.logged(sdk::format_certificate_pin(h.cert.pin_sha256)));
}

TEST_CASE("the right pin connects", "[conformance][security]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  h.listen();
  auto [client, server] = h.connect();
  CHECK(client->remote_address() == "127.0.0.1:" + std::to_string(h.listener->local_port()));
  CHECK(server->remote_address().rfind("127.0.0.1:", 0) == 0);
  h.spawn(serve_echo(*server));
  EchoResult result;
  h.spawn(echo_once(*client, pattern(100000, 3), result));
  REQUIRE(h.run_until([&] { return result.done; }));
  auto stats = client->stats();
  CHECK(stats.smoothed_rtt > sdk::Duration::zero());
  CHECK(stats.bytes_sent >= 100000);
  CHECK(stats.bytes_received >= 100000);
}

TEST_CASE("dial and listen over IPv6 loopback", "[conformance][security]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  auto listen = h.listen_options();
  listen.address = boost::asio::ip::make_address("::1");
  sdk::error_code ec;
  h.listener = h.edge->listen(listen, ec);
  if (!h.listener) {
    WARN("no IPv6 loopback here: " << ec.message());
    return;
  }
  auto options = h.dial_options(h.listener->local_port());
  options.address = listen.address;
  auto [client, server] = h.connect(options);
  CHECK(client->remote_address() == "[::1]:" + std::to_string(h.listener->local_port()));
  h.spawn(serve_echo(*server));
  EchoResult result;
  auto data = pattern(5000, 8);
  h.spawn(echo_once(*client, data, result));
  REQUIRE(h.run_until([&] { return result.done; }));
  CHECK_FALSE(result.error);
  CHECK(byte_difference(result.received, data) == "");
}

TEST_CASE("garbage datagrams are dropped and harm nothing", "[conformance][security]") {
  auto transport = EACH_TRANSPORT();
  if (!transport.datagram) {
    WARN("applies to datagram transports only (a UDP relay cuts or degrades the path): " << transport.name);
    return;
  }
  Harness h(transport);
  auto port = h.listen();
  auto [client, server] = h.connect();
  boost::asio::ip::udp::socket attacker(h.io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  boost::asio::ip::udp::endpoint target(boost::asio::ip::make_address("127.0.0.1"), port);
  // Random bytes, short-header look-alikes, a long header that lies about
  // its lengths, and an empty datagram.
  for (std::uint32_t i = 0; i < 200; ++i) {
    auto junk = pattern(1 + (i * 37) % 1400, i);
    if (i % 4 == 1) junk[0] = 0x40;  // short header, unknown connection
    if (i % 4 == 2) {
      junk[0] = 0xc0;  // long header Initial, version 1, absurd lengths
      junk[1] = 0, junk[2] = 0, junk[3] = 0, junk[4] = 1;
      if (junk.size() > 5) junk[5] = 0xff;
    }
    attacker.send_to(boost::asio::buffer(junk), target);
  }
  attacker.send_to(boost::asio::buffer(junk_empty), target);
  h.run_for(50ms);
  h.spawn(serve_echo(*server));
  EchoResult result;
  auto data = pattern(2000, 4);
  h.spawn(echo_once(*client, data, result));
  REQUIRE(h.run_until([&] { return result.done; }));
  CHECK_FALSE(result.error);
  CHECK(byte_difference(result.received, data) == "");
  // And a new connection still works.
  auto second = h.connect();
  CHECK(second.server);
}

TEST_CASE("a CA file verifies the edge by name", "[conformance][security]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  h.listen();
  TempFile ca(h.cert.cert_pem);
  auto options = h.dial_options(h.listener->local_port());
  options.verify = {};
  options.verify.ca_file = ca.path.string();

  SECTION("a name the certificate carries") {
    options.server_name = "localhost";
    auto [ec, connection] = h.dial(options);
    INFO(ec.message());
    CHECK_FALSE(ec);
    CHECK(connection);
  }
  SECTION("an address the certificate carries") {
    options.server_name = "127.0.0.1";
    auto [ec, connection] = h.dial(options);
    INFO(ec.message());
    CHECK_FALSE(ec);
  }
  SECTION("a name it does not carry") {
    options.server_name = "edge.example.com";
    auto [ec, connection] = h.dial(options);
    CHECK(ec == sdk::make_error_code(sdk::errc::certificate_mismatch));
  }
  SECTION("another CA") {
    auto other = make_self_signed("another", {"localhost"});
    TempFile other_ca(other.cert_pem);
    options.verify.ca_file = other_ca.path.string();
    auto [ec, connection] = h.dial(options);
    CHECK(ec == sdk::make_error_code(sdk::errc::certificate_mismatch));
  }
}

TEST_CASE("insecure accepts any certificate and says so", "[conformance][security]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  h.listen();
  auto options = h.dial_options(h.listener->local_port());
  options.verify = {};
  options.verify.insecure = true;
  auto [ec, connection] = h.dial(options);
  INFO(ec.message());
  CHECK_FALSE(ec);
  CHECK(connection);
  bool warned = false;
  for (const auto& [level, line] : h.logger.lines)
    warned = warned || (level == sdk::LogLevel::warn && line.find("insecure") != std::string::npos);
  CHECK(warned);
}

TEST_CASE("a dial with no way to verify the edge is refused", "[conformance][security]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  h.listen();
  auto options = h.dial_options(h.listener->local_port());
  options.verify = {};
  auto [ec, connection] = h.dial(options);
  CHECK(ec == sdk::make_error_code(sdk::errc::config_invalid));
}

TEST_CASE("a listener refuses an unusable certificate", "[conformance][security]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  auto options = h.listen_options();
  options.key_pem = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
  sdk::error_code ec;
  auto listener = h.edge->listen(options, ec);
  CHECK_FALSE(listener);
  CHECK(ec);
}

TEST_CASE("an unknown config key is an error at its location", "[conformance][config]") {
  auto transport = EACH_TRANSPORT();
  LoadedPlugin plugin(transport.name);
  boost::asio::io_context io;
  sdk::testing::CapturingLogger logger;
  sdk::PluginContext context{io.get_executor(), logger};
  sdk::Diagnostics diagnostics;
  auto table = sdk::testing::TableBuilder("transport[1]", "tunnel.toml").set("no_such_key", 1).table();
  auto object = plugin.create(table, context, diagnostics);
  CHECK_FALSE(object);
  REQUIRE_FALSE(diagnostics.ok());
  auto text = diagnostics.list().front().to_string();
  INFO(text);
  CHECK(text.rfind("tunnel.toml:2:1: ", 0) == 0);
  CHECK(text.find("no_such_key") != std::string::npos);
}

}  // namespace
}  // namespace warren::test

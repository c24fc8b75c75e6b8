// Conformance, connection lifetime: timeouts, keepalive, peer death, close.

#include "plugin_harness.hpp"
#include "stream_helpers.hpp"
#include "udp_relay.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/write.hpp>

#include <memory>

namespace warren::test {
namespace {

// The binary tests one transport (warren_add_transport_conformance).
#define EACH_TRANSPORT() transport_under_test()

struct Outcome {
  bool done = false;
  sdk::error_code error;
  std::chrono::steady_clock::time_point at;
};

void wait_accept_stream(sdk::Connection& connection, Outcome& out) {
  connection.async_accept_stream([&out](sdk::error_code ec, sdk::ByteStreamPtr) {
    out = {true, ec, std::chrono::steady_clock::now()};
  });
}

TEST_CASE("an idle connection ends with idle_timeout", "[conformance][lifecycle]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  h.listen();
  auto options = h.dial_options(h.listener->local_port());
  options.idle_timeout = 300ms;
  options.keepalive = sdk::Duration::zero();
  auto [client, server] = h.connect(options);
  Outcome client_end, server_end;
  auto start = std::chrono::steady_clock::now();
  wait_accept_stream(*client, client_end);
  wait_accept_stream(*server, server_end);
  REQUIRE(h.run_until([&] { return client_end.done && server_end.done; }, 5s));
  CHECK(client_end.error == sdk::make_error_code(sdk::errc::idle_timeout));
  CHECK(server_end.error == sdk::make_error_code(sdk::errc::idle_timeout));
  CHECK(client_end.at - start >= 250ms);
  CHECK(client_end.at - start < 2s);
}

TEST_CASE("keepalive keeps an idle connection open past the idle timeout", "[conformance][lifecycle]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  h.listen();
  auto options = h.dial_options(h.listener->local_port());
  options.idle_timeout = 300ms;
  options.keepalive = 100ms;
  auto [client, server] = h.connect(options);
  Outcome client_end;
  wait_accept_stream(*client, client_end);
  h.run_for(1200ms);
  CHECK_FALSE(client_end.done);
  // Still usable.
  h.spawn(serve_echo(*server));
  auto data = pattern(1000, 5);
  EchoResult result;
  h.spawn(echo_once(*client, data, result));
  REQUIRE(h.run_until([&] { return result.done; }));
  CHECK_FALSE(result.error);
  CHECK(byte_difference(result.received, data) == "");
}

TEST_CASE("when the peer vanishes, pending operations fail within the idle timeout", "[conformance][lifecycle]") {
  auto transport = EACH_TRANSPORT();
  if (!transport.datagram) {
    WARN("no relay for stream transports yet: " << transport.name);
    return;
  }
  Harness h(transport);
  UdpRelay relay(h.io, h.listen());
  auto options = h.dial_options(relay.port());
  options.idle_timeout = 300ms;
  options.keepalive = 100ms;
  auto [client, server] = h.connect(options);
  h.spawn(serve_echo(*server));
  EchoResult warmup;
  h.spawn(echo_once(*client, pattern(100, 1), warmup));
  REQUIRE(h.run_until([&] { return warmup.done; }));
  REQUIRE_FALSE(warmup.error);

  auto stream = h.open_stream(*client);
  std::array<std::uint8_t, 16> buffer;
  Outcome read_end, accept_end;
  stream->async_read_some(boost::asio::buffer(buffer), [&](sdk::error_code ec, std::size_t) {
    read_end = {true, ec, std::chrono::steady_clock::now()};
  });
  wait_accept_stream(*client, accept_end);

  // The edge dies: nothing it says reaches us any more, not even a close.
  relay.cut();
  auto start = std::chrono::steady_clock::now();
  server.reset();
  h.listener.reset();
  REQUIRE(h.run_until([&] { return read_end.done && accept_end.done; }, 5s));
  CHECK(read_end.error == sdk::make_error_code(sdk::errc::idle_timeout));
  CHECK(accept_end.error == sdk::make_error_code(sdk::errc::idle_timeout));
  CHECK(read_end.at - start < 2s);
  // Later operations fail at once with the same reason.
  Outcome open_end;
  client->async_open_stream([&](sdk::error_code ec, sdk::ByteStreamPtr) {
    open_end = {true, ec, std::chrono::steady_clock::now()};
  });
  REQUIRE(h.run_until([&] { return open_end.done; }, 1s));
  CHECK(open_end.error == sdk::make_error_code(sdk::errc::idle_timeout));
}

TEST_CASE("when the peer's process dies, the connection fails within a second, not the idle timeout",
          "[conformance][lifecycle]") {
  auto transport = EACH_TRANSPORT();
  if (!transport.datagram) {
    WARN("no relay for stream transports yet: " << transport.name);
    return;
  }
  Harness h(transport);
  auto relay = std::make_unique<UdpRelay>(h.io, h.listen());
  auto options = h.dial_options(relay->port());
  options.idle_timeout = 30s;
  options.keepalive = 10s;
  auto [client, server] = h.connect(options);
  h.spawn(serve_echo(*server));
  EchoResult warmup;
  h.spawn(echo_once(*client, pattern(100, 1), warmup));
  REQUIRE(h.run_until([&] { return warmup.done; }));
  REQUIRE_FALSE(warmup.error);

  auto stream = h.open_stream(*client);
  std::array<std::uint8_t, 16> buffer;
  Outcome read_end;
  stream->async_read_some(boost::asio::buffer(buffer), [&](sdk::error_code ec, std::size_t) {
    read_end = {true, ec, std::chrono::steady_clock::now()};
  });
  // The edge's process dies: its socket is gone, so its host answers what
  // we send with ICMP "port unreachable" (the relay's socket stands in).
  relay.reset();
  auto start = std::chrono::steady_clock::now();
  std::string heartbeat = "still there?";
  boost::asio::async_write(*stream, boost::asio::buffer(heartbeat), [](sdk::error_code, std::size_t) {});
  REQUIRE(h.run_until([&] { return read_end.done; }, 5s));
  CHECK(read_end.error == sdk::make_error_code(sdk::errc::peer_unreachable));
  CHECK(read_end.at - start < 1s);
}

TEST_CASE("a dial to a port where nothing listens fails fast with dial_failed", "[conformance][lifecycle]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  std::uint16_t port;
  {
    // A port that was free a moment ago: nothing listens there now.
    boost::asio::ip::udp::socket probe(h.io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }
  auto options = h.dial_options(port);
  options.handshake_timeout = 10s;
  auto start = std::chrono::steady_clock::now();
  auto [ec, connection] = h.dial(options);
  CHECK(ec == sdk::make_error_code(sdk::errc::dial_failed));
  CHECK_FALSE(connection);
  CHECK(std::chrono::steady_clock::now() - start < 1s);
}

TEST_CASE("data arrives intact over a lossy path", "[conformance][lifecycle]") {
  auto transport = EACH_TRANSPORT();
  if (!transport.datagram) {
    WARN("applies to datagram transports only (a UDP relay cuts or degrades the path): " << transport.name);
    return;
  }
  Harness h(transport);
  UdpRelay relay(h.io, h.listen());
  auto [client, server] = h.connect(h.dial_options(relay.port()));
  relay.set_loss(0.05, 42);
  h.spawn(serve_echo(*server));
  std::vector<EchoResult> results(8);
  std::vector<std::vector<std::uint8_t>> sent;
  for (std::size_t i = 0; i < results.size(); ++i) {
    sent.push_back(pattern(256 * 1024, static_cast<std::uint32_t>(50 + i)));
    h.spawn(echo_once(*client, sent.back(), results[i]));
  }
  REQUIRE(h.run_until(
      [&] {
        for (const auto& r : results)
          if (!r.done) return false;
        return true;
      },
      30s));
  for (std::size_t i = 0; i < results.size(); ++i) {
    CHECK_FALSE(results[i].error);
    CHECK(byte_difference(results[i].received, sent[i]) == "");
  }
}

TEST_CASE("closing a connection tells the peer", "[conformance][lifecycle]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  h.listen();
  auto [client, server] = h.connect();
  Outcome client_end, server_end;
  wait_accept_stream(*client, client_end);
  wait_accept_stream(*server, server_end);
  h.run_for(20ms);
  server.reset();  // destroying it closes it
  REQUIRE(h.run_until([&] { return client_end.done && server_end.done; }, 2s));
  CHECK(client_end.error == sdk::make_error_code(sdk::errc::peer_closed));
  CHECK(server_end.error == boost::asio::error::operation_aborted);
}

TEST_CASE("a lost close is repeated when the peer speaks again", "[conformance][lifecycle]") {
  auto transport = EACH_TRANSPORT();
  if (!transport.datagram) {
    WARN("applies to datagram transports only (a UDP relay cuts or degrades the path): " << transport.name);
    return;
  }
  Harness h(transport);
  UdpRelay relay(h.io, h.listen());
  auto options = h.dial_options(relay.port());
  options.idle_timeout = 10s;
  options.keepalive = 100ms;
  auto [client, server] = h.connect(options);
  Outcome client_end;
  wait_accept_stream(*client, client_end);
  h.run_for(20ms);
  relay.mute_server(true);  // the close is lost
  server.reset();
  auto start = std::chrono::steady_clock::now();
  h.run_for(50ms);
  relay.mute_server(false);  // the next keepalive is answered with it again
  REQUIRE(h.run_until([&] { return client_end.done; }, 3s));
  CHECK(client_end.error == sdk::make_error_code(sdk::errc::peer_closed));
  CHECK(client_end.at - start < 1s);
}

TEST_CASE("destroying a connection fails its streams' pending operations", "[conformance][lifecycle]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  h.listen();
  auto [client, server] = h.connect();
  auto stream = h.open_stream(*client);
  std::array<std::uint8_t, 16> buffer;
  Outcome read_end, later_write;
  stream->async_read_some(boost::asio::buffer(buffer), [&](sdk::error_code ec, std::size_t) {
    read_end = {true, ec, {}};
  });
  client.reset();
  REQUIRE(h.run_until([&] { return read_end.done; }, 1s));
  CHECK(read_end.error == boost::asio::error::operation_aborted);
  stream->async_write_some(boost::asio::buffer(buffer), [&](sdk::error_code ec, std::size_t) {
    later_write = {true, ec, {}};
  });
  REQUIRE(h.run_until([&] { return later_write.done; }, 1s));
  CHECK(later_write.error);
}

TEST_CASE("a dial to a silent address fails at its handshake timeout", "[conformance][lifecycle]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  // Something holds the port and never answers.
  std::uint16_t port;
  boost::asio::ip::udp::socket silent_udp(h.io);
  boost::asio::ip::tcp::acceptor silent_tcp(h.io);
  if (transport.datagram) {
    silent_udp = boost::asio::ip::udp::socket(h.io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = silent_udp.local_endpoint().port();
  } else {
    silent_tcp = boost::asio::ip::tcp::acceptor(h.io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = silent_tcp.local_endpoint().port();
  }
  auto options = h.dial_options(port);
  options.handshake_timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  auto [ec, connection] = h.dial(options);
  // A datagram transport that heard nothing at all may say so: UDP looks
  // blocked (quic_broken, which moves a leg to the next transport at once).
  bool blocked = transport.datagram && ec == sdk::make_error_code(sdk::errc::quic_broken);
  CHECK((ec == sdk::make_error_code(sdk::errc::handshake_timeout) || blocked));
  CHECK_FALSE(connection);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
}

TEST_CASE("destroying the transport fails a dial in progress", "[conformance][lifecycle]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  boost::asio::ip::udp::socket silent_udp(h.io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  boost::asio::ip::tcp::acceptor silent_tcp(h.io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  auto port = transport.datagram ? silent_udp.local_endpoint().port() : silent_tcp.local_endpoint().port();
  Outcome dial_end;
  h.connector->async_dial(h.dial_options(port), [&](sdk::error_code ec, sdk::ConnectionPtr) {
    dial_end = {true, ec, std::chrono::steady_clock::now()};
  });
  h.run_for(20ms);
  REQUIRE_FALSE(dial_end.done);
  h.connector.reset();
  REQUIRE(h.run_until([&] { return dial_end.done; }, 1s));
  CHECK(dial_end.error == boost::asio::error::operation_aborted);
}

TEST_CASE("listening on a taken port fails with port_in_use", "[conformance][lifecycle]") {
  auto transport = EACH_TRANSPORT();
  Harness h(transport);
  auto options = h.listen_options();
  options.port = h.listen();
  sdk::error_code ec;
  auto second = h.edge->listen(options, ec);
  CHECK_FALSE(second);
  CHECK(ec == sdk::make_error_code(sdk::errc::port_in_use));
}

}  // namespace
}  // namespace warren::test

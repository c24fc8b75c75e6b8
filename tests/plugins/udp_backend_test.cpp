// The `udp` backend, loaded by name, against real UDP sockets on loopback.

#include "plugin_fixture.hpp"
#include "udp_flow_helpers.hpp"

#include <boost/asio/ip/udp.hpp>
#include <catch2/catch.hpp>

#include <array>
#include <cstring>
#include <optional>
#include <string>

using namespace warren;
using namespace warren::test;
using namespace std::chrono_literals;
using boost::asio::ip::udp;
using sdk::testing::TableBuilder;

namespace {

/// A UDP echo service that answers each datagram with "<source port>:<payload>",
/// so a test sees which socket the backend sent from.
struct EchoService {
  explicit EchoService(boost::asio::io_context& io) : socket(io, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    serve();
  }
  void serve() {
    socket.async_receive_from(boost::asio::buffer(buffer), from, [this](sdk::error_code ec, std::size_t n) {
      if (ec) return;
      reply = std::to_string(from.port()) + ":" + std::string(buffer.data(), n);
      socket.send_to(boost::asio::buffer(reply), from, 0, ec);
      serve();
    });
  }
  std::uint16_t port() const { return socket.local_endpoint().port(); }
  udp::socket socket;
  udp::endpoint from;
  std::array<char, 2048> buffer{};
  std::string reply;
};

}  // namespace

TEST_CASE("udp backend carries datagrams and echoes them through one socket per flow") {
  test::PluginFixture f;
  EchoService echo(f.io);
  auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "udp",
                                      TableBuilder().set("address", "127.0.0.1:" + std::to_string(echo.port())).table());
  REQUIRE(backend);
  CHECK(backend->carries() == sdk::Backend::Carries::datagrams);

  auto a = open_flow(f, *backend, "203.0.113.7:5555");
  auto b = open_flow(f, *backend, "203.0.113.8:6666");
  REQUIRE_FALSE(a.ec);
  REQUIRE_FALSE(b.ec);
  REQUIRE(a.flow);
  REQUIRE(b.flow);

  REQUIRE(a.flow->send(bytes("query one")));
  auto first = receive(f, *a.flow);
  REQUIRE_FALSE(first.ec);
  REQUIRE(b.flow->send(bytes("query two")));
  auto second = receive(f, *b.flow);
  REQUIRE_FALSE(second.ec);

  auto port_of = [](const std::string& reply) { return reply.substr(0, reply.find(':')); };
  CHECK(text(first.datagram).ends_with(":query one"));
  CHECK(text(second.datagram).ends_with(":query two"));
  CHECK(port_of(text(first.datagram)) != port_of(text(second.datagram)));  // a source port per flow

  // Byte-exact, empty and large payloads alike.
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{1200}, std::size_t{1900}}) {
    sdk::Datagram payload(size);
    for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<std::byte>(i * 31 + 7);
    REQUIRE(a.flow->send(payload));
    auto got = receive(f, *a.flow);
    REQUIRE_FALSE(got.ec);
    auto prefix = port_of(text(first.datagram)).size() + 1;
    REQUIRE(got.datagram.size() == prefix + size);
    CHECK(std::equal(payload.begin(), payload.end(), got.datagram.begin() + static_cast<std::ptrdiff_t>(prefix)));
  }
}

TEST_CASE("udp backend reports an ICMP port unreachable as backend_refused") {
  test::PluginFixture f;
  std::uint16_t closed_port = 0;
  {
    udp::socket probe(f.io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    closed_port = probe.local_endpoint().port();
  }  // closed: nothing listens there now
  auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "udp",
                                      TableBuilder().set("address", "127.0.0.1:" + std::to_string(closed_port)).table());
  REQUIRE(backend);
  auto opened = open_flow(f, *backend);
  REQUIRE_FALSE(opened.ec);  // opening a UDP flow sends nothing: the refusal comes with traffic

  SECTION("on a receive that is pending when the ICMP error arrives") {
    std::optional<Received> result;
    opened.flow->async_receive([&](sdk::error_code ec, sdk::Datagram d) { result = Received{ec, std::move(d)}; });
    CHECK(opened.flow->send(bytes("anyone?")));
    run_until(f, [&] { return result.has_value(); });
    REQUIRE(result);
    CHECK(result->ec == sdk::errc::backend_refused);
  }
  SECTION("on the next receive when a later send took the error") {
    CHECK(opened.flow->send(bytes("anyone?")));
    // Loopback delivers the ICMP error synchronously; a second send sees it.
    bool refused_send = !opened.flow->send(bytes("still?"));
    CHECK(refused_send);
    CHECK(receive(f, *opened.flow).ec == sdk::errc::backend_refused);
  }
}

TEST_CASE("udp backend completes a pending receive with operation_aborted when the flow goes") {
  test::PluginFixture f;
  EchoService echo(f.io);
  auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "udp",
                                      TableBuilder().set("address", "127.0.0.1:" + std::to_string(echo.port())).table());
  REQUIRE(backend);
  auto opened = open_flow(f, *backend);
  REQUIRE(opened.flow);
  std::optional<sdk::error_code> result;
  opened.flow->async_receive([&](sdk::error_code ec, sdk::Datagram) { result = ec; });
  opened.flow.reset();
  run_until(f, [&] { return result.has_value(); });
  REQUIRE(result);
  CHECK(*result == boost::asio::error::operation_aborted);
}

TEST_CASE("udp backend refuses streams with config_invalid and says why") {
  test::PluginFixture f;
  auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "udp", TableBuilder().set("address", "127.0.0.1:53").table());
  REQUIRE(backend);
  std::optional<sdk::error_code> result;
  backend->async_connect(sdk::StreamInfo{"203.0.113.7:5555", "127.0.0.1:20080"},
                         [&](sdk::error_code ec, sdk::ByteStreamPtr s) {
                           CHECK_FALSE(s);
                           result = ec;
                         });
  CHECK_FALSE(result);
  run_until(f, [&] { return result.has_value(); });
  REQUIRE(result);
  CHECK(*result == sdk::errc::config_invalid);
  bool said_why = false;
  for (const auto& [level, line] : f.logger.lines)
    said_why |= line.find("use it with a kind = \"udp\" tunnel") != std::string::npos;
  CHECK(said_why);
}

TEST_CASE("udp backend refuses non-loopback targets unless allow_remote is set") {
  test::PluginFixture f;
  auto refused = f.make<sdk::Backend>(sdk::PluginKind::backend, "udp", TableBuilder().set("address", "192.0.2.10:53").table());
  CHECK_FALSE(refused);
  REQUIRE(f.errors().size() == 1);
  CHECK_THAT(f.errors()[0], Catch::Contains("192.0.2.10:53 is not a loopback address"));

  test::PluginFixture g;
  auto allowed = g.make<sdk::Backend>(sdk::PluginKind::backend, "udp",
                                      TableBuilder().set("address", "192.0.2.10:53").set("allow_remote", true).table());
  CHECK(allowed);  // made, never used: no traffic leaves loopback
  CHECK(g.diagnostics.ok());
}

TEST_CASE("udp backend resolves a name when a flow opens and keeps it to loopback") {
  test::PluginFixture f;
  EchoService echo(f.io);
  auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "udp",
                                      TableBuilder().set("address", "localhost:" + std::to_string(echo.port())).table());
  REQUIRE(backend);
  auto opened = open_flow(f, *backend);
  REQUIRE_FALSE(opened.ec);
  REQUIRE(opened.flow->send(bytes("by name")));
  auto got = receive(f, *opened.flow);
  REQUIRE_FALSE(got.ec);
  CHECK(text(got.datagram).ends_with(":by name"));
}

TEST_CASE("udp backend table errors name the key") {
  test::PluginFixture f;
  auto missing = f.make<sdk::Backend>(sdk::PluginKind::backend, "udp", TableBuilder().set("allow_remote", true).table());
  CHECK_FALSE(missing);
  REQUIRE_FALSE(f.errors().empty());
  CHECK_THAT(f.errors()[0], Catch::Contains("address"));

  test::PluginFixture g;
  auto unknown = g.make<sdk::Backend>(sdk::PluginKind::backend, "udp",
                                      TableBuilder().set("address", "127.0.0.1:53").set("adress", "x").table());
  CHECK_FALSE(unknown);
  REQUIRE_FALSE(g.errors().empty());
  CHECK_THAT(g.errors()[0], Catch::Contains("adress"));
}

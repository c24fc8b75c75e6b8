// The udp backend's PROXY protocol v2 (proxy_protocol = "v2"): the header's
// bytes as a service receives them, before every datagram or the first one,
// and what it says when the public address is no IP literal. A real
// consumer (dnsdist) reads them in udp_dnsdist_test.cpp.

#include "plugin_fixture.hpp"
#include "udp_flow_helpers.hpp"

#include <boost/asio/ip/udp.hpp>
#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <vector>

using namespace warren;
using namespace warren::test;
using boost::asio::ip::udp;
using sdk::testing::TableBuilder;

namespace {

/// Receives whole datagrams as the service sees them, and answers each with "ok".
struct CapturingService {
  explicit CapturingService(boost::asio::io_context& io)
      : socket(io, {boost::asio::ip::make_address("127.0.0.1"), 0}) {}
  std::uint16_t port() const { return socket.local_endpoint().port(); }

  std::vector<std::uint8_t> next(PluginFixture& f) {
    std::optional<std::size_t> got;
    socket.async_receive_from(boost::asio::buffer(buffer), from, [&](sdk::error_code ec, std::size_t n) {
      got = ec ? 0 : n;
    });
    run_until(f, [&] { return got.has_value(); });
    REQUIRE(got);
    sdk::error_code ec;
    socket.send_to(boost::asio::buffer(std::string("ok")), from, 0, ec);
    return {buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*got)};
  }

  udp::socket socket;
  udp::endpoint from;
  std::array<std::uint8_t, 2048> buffer{};
};

sdk::ConfigTable v2_table(std::uint16_t port, const std::string& datagrams = "") {
  TableBuilder t;
  t.set("address", "127.0.0.1:" + std::to_string(port)).set("proxy_protocol", "v2");
  if (!datagrams.empty()) t.set("proxy_protocol_datagrams", datagrams);
  return t.table();
}

const std::vector<std::uint8_t> signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/// The 28-byte UDP4 header HAProxy's section 2.2 describes, written out by hand.
std::vector<std::uint8_t> udp4_header(std::array<std::uint8_t, 4> src, std::array<std::uint8_t, 4> dst,
                                      std::uint16_t sport, std::uint16_t dport) {
  std::vector<std::uint8_t> h = signature;
  h.insert(h.end(), {0x21, 0x12, 0x00, 12});  // v2 PROXY, AF_INET + DGRAM, 12 bytes of addresses
  h.insert(h.end(), src.begin(), src.end());
  h.insert(h.end(), dst.begin(), dst.end());
  h.insert(h.end(), {static_cast<std::uint8_t>(sport >> 8), static_cast<std::uint8_t>(sport & 0xFF),
                     static_cast<std::uint8_t>(dport >> 8), static_cast<std::uint8_t>(dport & 0xFF)});
  return h;
}

std::vector<std::uint8_t> concat(std::vector<std::uint8_t> a, std::string_view b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<std::uint8_t> raw(std::string_view b) { return {b.begin(), b.end()}; }

}  // namespace

TEST_CASE("udp backend with proxy_protocol v2 starts every datagram with a UDP4 header by default") {
  PluginFixture f;
  CapturingService service(f.io);
  auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "udp", v2_table(service.port()));
  REQUIRE(backend);
  auto opened = open_flow(f, *backend, "203.0.113.7:5555", "198.51.100.1:20053");
  REQUIRE(opened.flow);
  auto header = udp4_header({203, 0, 113, 7}, {198, 51, 100, 1}, 5555, 20053);

  REQUIRE(opened.flow->send(bytes("query one")));
  CHECK(service.next(f) == concat(header, "query one"));
  auto answer = receive(f, *opened.flow);
  REQUIRE_FALSE(answer.ec);
  CHECK(text(answer.datagram) == "ok");  // answers come back as the service sent them
  REQUIRE(opened.flow->send(bytes("query two")));
  CHECK(service.next(f) == concat(header, "query two"));
  REQUIRE(opened.flow->send(bytes("")));
  CHECK(service.next(f) == header);  // an empty datagram still says who sent it

  // A second flow carries its own client.
  auto other = open_flow(f, *backend, "203.0.113.9:7777", "198.51.100.1:20053");
  REQUIRE(other.flow->send(bytes("x")));
  CHECK(service.next(f) == concat(udp4_header({203, 0, 113, 9}, {198, 51, 100, 1}, 7777, 20053), "x"));
}

TEST_CASE("udp backend with proxy_protocol_datagrams = first sends the header once per flow") {
  PluginFixture f;
  CapturingService service(f.io);
  auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "udp", v2_table(service.port(), "first"));
  REQUIRE(backend);
  auto a = open_flow(f, *backend, "203.0.113.7:5555", "198.51.100.1:53");
  REQUIRE(a.flow->send(bytes("one")));
  CHECK(service.next(f) == concat(udp4_header({203, 0, 113, 7}, {198, 51, 100, 1}, 5555, 53), "one"));
  REQUIRE(a.flow->send(bytes("two")));
  CHECK(service.next(f) == raw("two"));
  auto b = open_flow(f, *backend, "203.0.113.8:6666", "198.51.100.1:53");
  REQUIRE(b.flow->send(bytes("three")));
  CHECK(service.next(f) == concat(udp4_header({203, 0, 113, 8}, {198, 51, 100, 1}, 6666, 53), "three"));
}

TEST_CASE("udp backend's PROXY header keeps the client when the public address is no IP of its family") {
  PluginFixture f;
  CapturingService service(f.io);
  auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "udp", v2_table(service.port()));
  REQUIRE(backend);

  SECTION("a name: the unspecified address with the listener's port") {
    auto opened = open_flow(f, *backend, "203.0.113.7:5555", "tunnel.example.com:20053");
    REQUIRE(opened.flow->send(bytes("q")));
    CHECK(service.next(f) == concat(udp4_header({203, 0, 113, 7}, {0, 0, 0, 0}, 5555, 20053), "q"));
    bool said = false;
    for (const auto& [level, line] : f.logger.lines)
      said |= line.find("tunnel.example.com:20053 is no IP address of the client's family") != std::string::npos;
    CHECK(said);
  }
  SECTION("an IPv6 client behind an IPv4 public address: UDP6 to [::]") {
    auto opened = open_flow(f, *backend, "[2001:db8::7]:5555", "198.51.100.1:20053");
    REQUIRE(opened.flow->send(bytes("q")));
    std::vector<std::uint8_t> expected = signature;
    expected.insert(expected.end(), {0x21, 0x22, 0x00, 36, 0x20, 0x01, 0x0d, 0xb8});
    expected.insert(expected.end(), 11, 0);
    expected.push_back(7);
    expected.insert(expected.end(), 16, 0);  // ::
    expected.insert(expected.end(), {0x15, 0xB3, 0x4E, 0x55});  // 5555, 20053
    CHECK(service.next(f) == concat(expected, "q"));
  }
  SECTION("a client that is no IP literal: an UNSPEC header, length 0") {
    auto opened = open_flow(f, *backend, "client.example:5555", "198.51.100.1:20053");
    REQUIRE(opened.flow->send(bytes("q")));
    std::vector<std::uint8_t> expected = signature;
    expected.insert(expected.end(), {0x21, 0x00, 0x00, 0x00});
    CHECK(service.next(f) == concat(expected, "q"));
  }
}

TEST_CASE("udp backend without proxy_protocol sends bare datagrams") {
  PluginFixture f;
  CapturingService service(f.io);
  auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "udp",
                                      TableBuilder().set("address", "127.0.0.1:" + std::to_string(service.port())).table());
  REQUIRE(backend);
  auto opened = open_flow(f, *backend);
  REQUIRE(opened.flow->send(bytes("plain")));
  CHECK(service.next(f) == raw("plain"));
}

TEST_CASE("udp backend refuses proxy_protocol v1 and a datagrams choice without v2, saying why") {
  PluginFixture f;
  auto v1 = f.make<sdk::Backend>(sdk::PluginKind::backend, "udp",
                                 TableBuilder().set("address", "127.0.0.1:53").set("proxy_protocol", "v1").table());
  CHECK_FALSE(v1);
  REQUIRE(f.errors().size() == 1);
  CHECK_THAT(f.errors()[0], Catch::Contains("cannot describe UDP") && Catch::Contains("Use \"v2\""));

  PluginFixture g;
  auto orphan = g.make<sdk::Backend>(
      sdk::PluginKind::backend, "udp",
      TableBuilder().set("address", "127.0.0.1:53").set("proxy_protocol_datagrams", "first").table());
  CHECK_FALSE(orphan);
  REQUIRE(g.errors().size() == 1);
  CHECK_THAT(g.errors()[0], Catch::Contains("no effect while proxy_protocol is \"off\""));

  PluginFixture h;
  auto typo = h.make<sdk::Backend>(
      sdk::PluginKind::backend, "udp",
      TableBuilder().set("address", "127.0.0.1:53").set("proxy_protocol", "v2").set("proxy_protocol_datagrams", "frist").table());
  CHECK_FALSE(typo);
  REQUIRE_FALSE(h.errors().empty());
  CHECK_THAT(h.errors()[0], Catch::Contains("not one of every, first"));
}

// The `tcp` backend's proxy_protocol key, loaded by name, against real
// sockets on loopback: the header is the first thing the service reads.

#include "plugin_fixture.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <optional>

using namespace warren;
using namespace std::chrono_literals;
using namespace std::string_literals;
using boost::asio::ip::tcp;
using sdk::testing::TableBuilder;

namespace {

struct Opened {
  sdk::error_code ec;
  sdk::ByteStreamPtr stream;
};

std::optional<Opened> open(test::PluginFixture& f, sdk::Backend& backend, sdk::StreamInfo info) {
  std::optional<Opened> result;
  backend.async_connect(std::move(info), [&](sdk::error_code ec, sdk::ByteStreamPtr s) {
    result = Opened{ec, std::move(s)};
  });
  f.io.restart();
  for (auto deadline = std::chrono::steady_clock::now() + 10s; !result && std::chrono::steady_clock::now() < deadline;)
    f.io.run_one_for(100ms);
  return result;
}

struct Service {
  explicit Service(boost::asio::io_context& io) : acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0}) {}
  std::string address() const { return "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()); }
  tcp::acceptor acceptor;
};

/// Opens one stream with `mode` and returns what the service read before
/// `payload`, after checking that `payload` follows it intact.
std::string header_seen(const std::string& mode, sdk::StreamInfo info, std::size_t header_size) {
  test::PluginFixture f;
  Service service(f.io);
  auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "tcp",
                                      TableBuilder().set("address", service.address()).set("proxy_protocol", mode).table());
  REQUIRE(backend);
  auto opened = open(f, *backend, std::move(info));
  REQUIRE(opened);
  REQUIRE_FALSE(opened->ec);
  REQUIRE(opened->stream);
  tcp::socket peer = service.acceptor.accept();  // already queued: the backend connected

  // The header was written before the stream was handed over; the payload follows.
  const std::string payload = "GET / HTTP/1.0\r\n\r\n";
  bool written = false;
  boost::asio::async_write(*opened->stream, boost::asio::buffer(payload), [&](sdk::error_code ec, std::size_t) {
    CHECK_FALSE(ec);
    written = true;
  });
  f.io.restart();
  while (!written && f.io.run_one_for(2s)) {
  }
  REQUIRE(written);
  std::string got(header_size + payload.size(), '\0');
  boost::asio::read(peer, boost::asio::buffer(got));
  CHECK(got.substr(header_size) == payload);
  return got.substr(0, header_size);
}

}  // namespace

TEST_CASE("tcp backend with proxy_protocol v1 sends the client's line before any byte") {
  CHECK(header_seen("v1", {"203.0.113.7:5555", "127.0.0.1:20080"}, 46) ==
        "PROXY TCP4 203.0.113.7 127.0.0.1 5555 20080\r\n");
  CHECK(header_seen("v1", {"[2001:db8::7]:5555", "[::1]:443"}, 37) == "PROXY TCP6 2001:db8::7 ::1 5555 443\r\n");
}

TEST_CASE("tcp backend with proxy_protocol v2 sends the binary header before any byte") {
  CHECK(header_seen("v2", {"203.0.113.7:5555", "127.0.0.1:20080"}, 28) ==
        "\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A\x21\x11\x00\x0C"s +
            "\xCB\x00\x71\x07\x7F\x00\x00\x01\x15\xB3\x4E\x60"s);
}

TEST_CASE("tcp backend with proxy_protocol off sends nothing of its own") {
  test::PluginFixture f;
  Service service(f.io);
  auto backend =
      f.make<sdk::Backend>(sdk::PluginKind::backend, "tcp", TableBuilder().set("address", service.address()).table());
  REQUIRE(backend);
  auto opened = open(f, *backend, {"203.0.113.7:5555", "127.0.0.1:20080"});
  REQUIRE(opened);
  REQUIRE(opened->stream);
  tcp::socket peer = service.acceptor.accept();
  opened->stream->shutdown_send();
  f.io.restart();
  f.io.poll();
  std::string got;
  sdk::error_code ec;
  boost::asio::read(peer, boost::asio::dynamic_buffer(got), ec);
  CHECK(ec == boost::asio::error::eof);
  CHECK(got.empty());
}

TEST_CASE("tcp backend refuses an unknown proxy_protocol value naming the choices") {
  test::PluginFixture f;
  CHECK_FALSE(f.make<sdk::Backend>(sdk::PluginKind::backend, "tcp",
                                   TableBuilder().set("address", "127.0.0.1:80").set("proxy_protocol", "v3").table()));
  REQUIRE(f.diagnostics.list().size() == 1);
  const auto& d = f.diagnostics.list()[0];
  CHECK_THAT(d.message, Catch::StartsWith("'proxy_protocol' = \"v3\" is not one of off, v1, v2"));
  CHECK(d.where.file == "test.toml");
  CHECK(d.where.line == 3);  // the value's own line (TableBuilder: address on 2, proxy_protocol on 3)
}

TEST_CASE("tcp backend with proxy_protocol fails only the stream whose service resets at once") {
  test::PluginFixture f;
  Service service(f.io);
  auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "tcp",
                                      TableBuilder().set("address", service.address()).set("proxy_protocol", "v2").table());
  REQUIRE(backend);
  // The connect is issued at once; the service accepts and resets it before the backend's loop runs, so the
  // backend learns of the reset before its header can go out.
  std::optional<Opened> first;
  backend->async_connect(sdk::StreamInfo{"203.0.113.7:5555", "127.0.0.1:20080"},
                         [&](sdk::error_code ec, sdk::ByteStreamPtr s) { first = Opened{ec, std::move(s)}; });
  {
    tcp::socket doomed = service.acceptor.accept();
    doomed.set_option(boost::asio::socket_base::linger(true, 0));
    doomed.close();  // RST
  }
  f.io.restart();
  for (auto deadline = std::chrono::steady_clock::now() + 10s; !first && std::chrono::steady_clock::now() < deadline;)
    f.io.run_one_for(100ms);
  REQUIRE(first);
  CHECK(first->ec == sdk::errc::backend_refused);
  CHECK_FALSE(first->stream);

  // The same backend serves the next stream, header first.
  auto second = open(f, *backend, {"[2001:db8::7]:5555", "[::1]:443"});
  REQUIRE(second);
  REQUIRE_FALSE(second->ec);
  tcp::socket peer = service.acceptor.accept();
  std::string got(16 + 36, '\0');
  boost::asio::read(peer, boost::asio::buffer(got));
  CHECK(got.substr(12, 4) == "\x21\x21\x00\x24"s);
}

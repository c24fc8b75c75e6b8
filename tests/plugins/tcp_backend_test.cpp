// The `tcp` backend, loaded by name, against real sockets on loopback.

#include "plugin_fixture.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <optional>

using namespace warren;
using namespace std::chrono_literals;
using boost::asio::ip::tcp;
using sdk::testing::TableBuilder;

namespace {

struct ConnectResult {
  sdk::error_code ec;
  sdk::ByteStreamPtr stream;
};

/// Runs one backend connect to completion, with a deadline on the test itself.
std::optional<ConnectResult> connect(test::PluginFixture& f, sdk::Backend& backend) {
  std::optional<ConnectResult> result;
  backend.async_connect(sdk::StreamInfo{"203.0.113.7:5555", "127.0.0.1:20080"},
                        [&](sdk::error_code ec, sdk::ByteStreamPtr s) { result = ConnectResult{ec, std::move(s)}; });
  f.io.restart();
  for (auto deadline = std::chrono::steady_clock::now() + 10s; !result && std::chrono::steady_clock::now() < deadline;)
    f.io.run_one_for(100ms);
  return result;
}

}  // namespace

TEST_CASE("tcp backend connects to a real listener and carries bytes both ways") {
  test::PluginFixture f;
  tcp::acceptor acceptor(f.io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  auto port = acceptor.local_endpoint().port();
  auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "tcp",
                                      TableBuilder().set("address", "127.0.0.1:" + std::to_string(port)).table());
  REQUIRE(backend);

  tcp::socket peer(f.io);
  acceptor.async_accept(peer, [](sdk::error_code ec) { REQUIRE_FALSE(ec); });
  auto result = connect(f, *backend);
  REQUIRE(result);
  REQUIRE_FALSE(result->ec);
  REQUIRE(result->stream);
  f.io.restart();
  f.io.run_for(100ms);  // let the accept complete
  REQUIRE(peer.is_open());

  std::string hello = "hello backend";
  boost::asio::async_write(*result->stream, boost::asio::buffer(hello), [](sdk::error_code ec, std::size_t) {
    REQUIRE_FALSE(ec);
  });
  std::string got(hello.size(), '\0');
  f.io.restart();
  f.io.run_for(50ms);
  boost::asio::read(peer, boost::asio::buffer(got));
  CHECK(got == hello);

  // Half-close: the peer reads EOF but can still answer.
  result->stream->shutdown_send();
  char byte;
  sdk::error_code eof;
  peer.read_some(boost::asio::buffer(&byte, 1), eof);
  CHECK(eof == boost::asio::error::eof);
  boost::asio::write(peer, boost::asio::buffer(std::string("reply")));
  std::string reply(5, '\0');
  bool read_done = false;
  boost::asio::async_read(*result->stream, boost::asio::buffer(reply), [&](sdk::error_code ec, std::size_t) {
    CHECK_FALSE(ec);
    read_done = true;
  });
  f.io.restart();
  while (!read_done && f.io.run_one_for(2s)) {
  }
  CHECK(reply == "reply");
}

TEST_CASE("tcp backend reports a refused connection as backend_refused") {
  test::PluginFixture f;
  // Bind then close: nothing listens on that port now.
  std::uint16_t port;
  {
    tcp::acceptor probe(f.io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }
  auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "tcp",
                                      TableBuilder().set("address", "127.0.0.1:" + std::to_string(port)).table());
  REQUIRE(backend);
  auto result = connect(f, *backend);
  REQUIRE(result);
  CHECK(result->ec == sdk::errc::backend_refused);
  CHECK_FALSE(result->stream);
}

TEST_CASE("tcp backend gives up at connect_timeout when the service does not answer") {
  test::PluginFixture f;
  test::HungListener hung(f.io);
  auto backend =
      f.make<sdk::Backend>(sdk::PluginKind::backend, "tcp",
                           TableBuilder().set("address", hung.address()).set("connect_timeout", "200ms").table());
  REQUIRE(backend);
  auto started = std::chrono::steady_clock::now();
  auto result = connect(f, *backend);
  REQUIRE(result);
  CHECK(result->ec == sdk::errc::backend_timeout);
  CHECK(std::chrono::steady_clock::now() - started < 900ms);  // the deadline, not a SYN retry
}

TEST_CASE("tcp backend refuses non-loopback targets unless allow_remote is set") {
  test::PluginFixture f;
  auto refused = f.make<sdk::Backend>(sdk::PluginKind::backend, "tcp",
                                      TableBuilder().set("address", "192.0.2.10:80").table());
  CHECK_FALSE(refused);
  REQUIRE(f.errors().size() == 1);
  CHECK_THAT(f.errors()[0], Catch::Contains("192.0.2.10:80 is not a loopback address"));
  CHECK_THAT(f.errors()[0], Catch::Contains("allow_remote = true"));

  test::PluginFixture g;
  auto allowed = g.make<sdk::Backend>(sdk::PluginKind::backend, "tcp",
                                      TableBuilder().set("address", "192.0.2.10:80").set("allow_remote", true).table());
  CHECK(allowed);  // made, never dialled: no traffic leaves loopback
  CHECK(g.diagnostics.ok());
}

TEST_CASE("tcp backend accepts loopback in every spelling") {
  for (const char* address : {"127.0.0.1:80", "127.8.9.10:80", "[::1]:80", "localhost:80"}) {
    test::PluginFixture f;
    INFO(address);
    CHECK(f.make<sdk::Backend>(sdk::PluginKind::backend, "tcp", TableBuilder().set("address", address).table()));
  }
}

TEST_CASE("tcp backend table errors name the key") {
  test::PluginFixture f;
  CHECK_FALSE(f.make<sdk::Backend>(sdk::PluginKind::backend, "tcp",
                                   TableBuilder().set("address", "127.0.0.1").set("timeout", "1s").table()));
  CHECK(f.errors() == std::vector<std::string>{
                          "'address' = \"127.0.0.1\": missing ':PORT'",
                          "unknown key 'timeout' in [plugin]; known keys: address, allow_remote, connect_timeout, nodelay, proxy_protocol"});
}

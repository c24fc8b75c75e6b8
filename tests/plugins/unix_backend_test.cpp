// The `unix` backend, loaded by name, against real Unix-domain listeners:
// a socket file and a Linux abstract name.

#include "plugin_fixture.hpp"

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <random>
#include <stdlib.h>
#include <unistd.h>

using namespace warren;
using namespace std::chrono_literals;
using boost::asio::local::stream_protocol;
using sdk::testing::TableBuilder;

namespace {

struct ConnectResult {
  sdk::error_code ec;
  sdk::ByteStreamPtr stream;
};

/// A fresh folder under /tmp (short: socket paths hold 107 bytes), removed after.
struct SocketDir {
  std::filesystem::path path;
  SocketDir() {
    char name[] = "/tmp/warren-unix-XXXXXX";
    if (!mkdtemp(name)) throw std::runtime_error("mkdtemp failed");
    path = name;
  }
  ~SocketDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

/// An abstract name no other test run uses at the same time.
std::string abstract_name() {
  std::random_device seed;
  return "@warren-test-" + std::to_string(getpid()) + "-" + std::to_string(seed());
}

stream_protocol::endpoint abstract_endpoint(const std::string& at_name) {
  return stream_protocol::endpoint(std::string(1, '\0') + at_name.substr(1));
}

std::optional<ConnectResult> connect(test::PluginFixture& f, sdk::Backend& backend) {
  std::optional<ConnectResult> result;
  backend.async_connect(sdk::StreamInfo{"203.0.113.7:5555", "127.0.0.1:20080"},
                        [&](sdk::error_code ec, sdk::ByteStreamPtr s) { result = ConnectResult{ec, std::move(s)}; });
  f.io.restart();
  for (auto deadline = std::chrono::steady_clock::now() + 10s; !result && std::chrono::steady_clock::now() < deadline;)
    f.io.run_one_for(100ms);
  return result;
}

core::PluginPtr<sdk::Backend> make_unix(test::PluginFixture& f, const std::string& path,
                                        std::optional<std::string> timeout = {}) {
  TableBuilder table;
  table.set("path", path);
  if (timeout) table.set("connect_timeout", *timeout);
  return f.make<sdk::Backend>(sdk::PluginKind::backend, "unix", table.table());
}

/// Accepts one connection on `acceptor`, echoes a message through the
/// backend's stream and checks a half-close reaches the service.
void check_carries_bytes(test::PluginFixture& f, stream_protocol::acceptor& acceptor, ConnectResult& connected) {
  stream_protocol::socket peer(f.io);
  acceptor.accept(peer);  // the connect completed: the connection waits in the backlog

  std::string hello = "hello unix backend";
  bool written = false;
  boost::asio::async_write(*connected.stream, boost::asio::buffer(hello), [&](sdk::error_code ec, std::size_t) {
    CHECK_FALSE(ec);
    written = true;
  });
  f.io.restart();
  while (!written && f.io.run_one_for(2s)) {
  }
  std::string got(hello.size(), '\0');
  boost::asio::read(peer, boost::asio::buffer(got));
  CHECK(got == hello);

  connected.stream->shutdown_send();
  char byte;
  sdk::error_code eof;
  peer.read_some(boost::asio::buffer(&byte, 1), eof);
  CHECK(eof == boost::asio::error::eof);
  boost::asio::write(peer, boost::asio::buffer(std::string("reply")));
  std::string reply(5, '\0');
  bool read_done = false;
  boost::asio::async_read(*connected.stream, boost::asio::buffer(reply), [&](sdk::error_code ec, std::size_t) {
    CHECK_FALSE(ec);
    read_done = true;
  });
  f.io.restart();
  while (!read_done && f.io.run_one_for(2s)) {
  }
  CHECK(reply == "reply");
}

}  // namespace

TEST_CASE("unix backend connects to a socket file and carries bytes both ways") {
  test::PluginFixture f;
  SocketDir dir;
  auto path = (dir.path / "service.sock").string();
  stream_protocol::acceptor acceptor(f.io, stream_protocol::endpoint(path));
  auto backend = make_unix(f, path);
  REQUIRE(backend);
  auto result = connect(f, *backend);
  REQUIRE(result);
  REQUIRE_FALSE(result->ec);
  REQUIRE(result->stream);
  check_carries_bytes(f, acceptor, *result);
}

TEST_CASE("unix backend connects to an abstract socket written @name") {
  test::PluginFixture f;
  auto name = abstract_name();
  stream_protocol::acceptor acceptor(f.io, abstract_endpoint(name));
  auto backend = make_unix(f, name);
  REQUIRE(backend);
  auto result = connect(f, *backend);
  REQUIRE(result);
  REQUIRE_FALSE(result->ec);
  REQUIRE(result->stream);
  check_carries_bytes(f, acceptor, *result);
}

TEST_CASE("unix backend reports a missing socket, a dead one and an unknown abstract name as backend_refused") {
  SocketDir dir;
  auto stale = (dir.path / "stale.sock").string();
  {
    boost::asio::io_context io;
    stream_protocol::acceptor gone(io, stream_protocol::endpoint(stale));
  }  // closed: the file stays, nobody listens (ECONNREFUSED)
  REQUIRE(std::filesystem::exists(stale));
  std::vector<std::pair<std::string, std::string>> cases{
      {(dir.path / "missing.sock").string(), "no socket there (ENOENT)"},
      {stale, "nobody listens on it (ECONNREFUSED)"},
      {abstract_name(), "nobody listens on that abstract name (ECONNREFUSED)"}};
  for (const auto& [path, reason] : cases) {
    INFO(path);
    test::PluginFixture f;
    auto backend = make_unix(f, path);
    REQUIRE(backend);
    for (int i = 0; i < 5; ++i) {
      auto started = std::chrono::steady_clock::now();
      auto result = connect(f, *backend);
      REQUIRE(result);
      CHECK(result->ec == sdk::errc::backend_refused);
      CHECK_FALSE(result->stream);
      CHECK(std::chrono::steady_clock::now() - started < 1s);  // at once, not at the connect_timeout
    }
    // The reason at info level, once for the five (then once per 10 s).
    auto lines = std::count_if(f.logger.lines.begin(), f.logger.lines.end(), [&, &reason = reason](const auto& line) {
      return line.first == sdk::LogLevel::info && line.second.find("refuses streams: " + reason) != std::string::npos;
    });
    CHECK(lines == 1);
  }
}

TEST_CASE("unix backend waits while the listen backlog is full and times out at connect_timeout") {
  test::PluginFixture f;
  SocketDir dir;
  auto path = (dir.path / "busy.sock").string();
  stream_protocol::acceptor acceptor(f.io);
  acceptor.open();
  acceptor.bind(stream_protocol::endpoint(path));
  acceptor.listen(0);
  // Fill the backlog: with listen(0) the kernel queues one connection, and
  // the next non-blocking connect gets EAGAIN.
  std::vector<std::unique_ptr<stream_protocol::socket>> fillers;
  for (int i = 0; i < 8; ++i) {
    auto s = std::make_unique<stream_protocol::socket>(f.io);
    s->open();
    s->non_blocking(true);
    sdk::error_code ec;
    s->connect(stream_protocol::endpoint(path), ec);
    if (ec) break;  // would_block: the backlog is full
    fillers.push_back(std::move(s));
  }
  REQUIRE_FALSE(fillers.empty());

  SECTION("nobody accepts: backend_timeout at the deadline") {
    auto backend = make_unix(f, path, "200ms");
    REQUIRE(backend);
    auto started = std::chrono::steady_clock::now();
    auto result = connect(f, *backend);
    REQUIRE(result);
    CHECK(result->ec == sdk::errc::backend_timeout);
    auto took = std::chrono::steady_clock::now() - started;
    CHECK(took >= 200ms);
    CHECK(took < 900ms);
  }
  SECTION("the service accepts while the backend waits: the connect goes through") {
    auto backend = make_unix(f, path, "10s");
    REQUIRE(backend);
    std::optional<ConnectResult> result;
    backend->async_connect(sdk::StreamInfo{"203.0.113.7:5555", "127.0.0.1:20080"},
                           [&](sdk::error_code ec, sdk::ByteStreamPtr s) { result = ConnectResult{ec, std::move(s)}; });
    f.io.restart();
    f.io.run_for(100ms);
    REQUIRE_FALSE(result);  // still waiting for room in the backlog
    stream_protocol::socket first(f.io);
    acceptor.accept(first);  // makes room
    f.io.restart();
    for (auto deadline = std::chrono::steady_clock::now() + 5s; !result && std::chrono::steady_clock::now() < deadline;)
      f.io.run_one_for(100ms);
    REQUIRE(result);
    CHECK_FALSE(result->ec);
    CHECK(result->stream);
  }
}

TEST_CASE("unix backend path errors say what is wrong with the path") {
  struct Case {
    std::string path;
    std::string message;
  };
  std::vector<Case> cases = {
      {"", "the socket path is empty; write an absolute path, or @name for an abstract socket"},
      {"@", "an abstract socket name needs at least one character after '@'"},
      {"run/app.sock", "the socket path \"run/app.sock\" is relative; write it absolute (the connector's working "
                       "directory is not the config's), or @name for an abstract socket"},
      {"/" + std::string(107, 'a'),
       "the socket path is 108 bytes long; a Unix socket address holds at most 107 (sun_path, unix(7))"},
      {"@" + std::string(107, 'a'),
       "the socket path is 108 bytes long; a Unix socket address holds at most 107 (sun_path, unix(7))"},
      {std::string("/run/a\0b", 8), "the socket path contains a NUL byte"},
  };
  for (const auto& c : cases) {
    INFO(c.path);
    test::PluginFixture f;
    CHECK_FALSE(make_unix(f, c.path));
    CHECK(f.errors() == std::vector<std::string>{c.message});
    REQUIRE(f.diagnostics.list().size() == 1);
    CHECK(f.diagnostics.list()[0].where.to_string() == "test.toml:2:1");  // the value's own line
  }
  // The longest paths that fit are accepted, as a file and as an abstract name.
  for (const auto& fits : {"/" + std::string(106, 'a'), "@" + std::string(106, 'a')}) {
    test::PluginFixture f;
    CHECK(make_unix(f, fits));
    CHECK(f.diagnostics.ok());
  }
}

TEST_CASE("unix backend table errors name the key") {
  test::PluginFixture f;
  CHECK_FALSE(f.make<sdk::Backend>(sdk::PluginKind::backend, "unix",
                                   TableBuilder().set("address", "/run/app.sock").table()));
  auto errors = f.errors();
  REQUIRE(errors.size() == 2);
  CHECK_THAT(errors[0], Catch::Contains("unknown key 'address' in [plugin]; known keys: path, connect_timeout, proxy_protocol"));
  CHECK_THAT(errors[1], Catch::Contains("'path'"));
}

TEST_CASE("unix backend with proxy_protocol writes the PROXY header before any tunnelled byte") {
  struct Case {
    const char* version;
    std::string header;
  };
  const std::uint8_t v2[] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,  // signature
                             0x21, 0x11, 0x00, 0x0C,                                                  // PROXY, TCP4, 12
                             203,  0,    113,  7,    127,  0,    0,    1,                             // addresses
                             0x15, 0xB3, 0x4E, 0x70};                                                 // 5555, 20080
  for (const auto& c : {Case{"v1", "PROXY TCP4 203.0.113.7 127.0.0.1 5555 20080\r\n"},
                        Case{"v2", std::string(reinterpret_cast<const char*>(v2), sizeof v2)}}) {
    INFO(c.version);
    test::PluginFixture f;
    SocketDir dir;
    auto path = (dir.path / "proxied.sock").string();
    stream_protocol::acceptor acceptor(f.io, stream_protocol::endpoint(path));
    auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "unix",
                                        TableBuilder().set("path", path).set("proxy_protocol", c.version).table());
    REQUIRE(backend);
    auto result = connect(f, *backend);
    REQUIRE(result);
    REQUIRE_FALSE(result->ec);
    stream_protocol::socket peer(f.io);
    acceptor.accept(peer);
    bool written = false;
    boost::asio::async_write(*result->stream, boost::asio::buffer(std::string("GET")),
                             [&](sdk::error_code ec, std::size_t) {
                               CHECK_FALSE(ec);
                               written = true;
                             });
    f.io.restart();
    while (!written && f.io.run_one_for(2s)) {
    }
    std::string got(c.header.size() + 3, '\0');
    boost::asio::read(peer, boost::asio::buffer(got));
    CHECK(got == c.header + "GET");
  }
}

TEST_CASE("unix backend refuses an unknown proxy_protocol and names the choices") {
  test::PluginFixture f;
  CHECK_FALSE(f.make<sdk::Backend>(sdk::PluginKind::backend, "unix",
                                   TableBuilder().set("path", "/run/app.sock").set("proxy_protocol", "v3").table()));
  REQUIRE(f.errors().size() == 1);
  CHECK_THAT(f.errors()[0], Catch::Contains("proxy_protocol"));
  CHECK_THAT(f.errors()[0], Catch::Contains("v1"));
  CHECK_THAT(f.errors()[0], Catch::Contains("v2"));
}

// The `group` backend, loaded by name, against real listeners on loopback:
// balance, retry past a dead target, passive ejection, HTTP health checks,
// an immediate refusal when nothing is healthy, and its config errors.

#include "plugin_fixture.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <optional>

using namespace warren;
using namespace std::chrono_literals;
using boost::asio::ip::tcp;
using sdk::testing::TableBuilder;
using sdk::testing::item;

namespace {

/// Accepts and keeps every connection; with `status`, answers each with an
/// HTTP/1.1 response of that status after the first bytes, then closes.
struct Listener {
  tcp::acceptor acceptor;
  int accepted = 0;
  std::optional<unsigned> status;
  std::vector<std::shared_ptr<tcp::socket>> held;
  std::string name;  ///< "127.0.0.1:PORT", kept: a closed acceptor has no endpoint

  explicit Listener(boost::asio::io_context& io)
      : acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0}),
        name("127.0.0.1:" + std::to_string(acceptor.local_endpoint().port())) {
    accept();
  }
  const std::string& address() const { return name; }
  void accept() {
    acceptor.async_accept([this](sdk::error_code ec, tcp::socket s) {
      if (ec) return;
      ++accepted;
      auto socket = std::make_shared<tcp::socket>(std::move(s));
      held.push_back(socket);
      if (status) answer(socket);
      accept();
    });
  }
  void answer(std::shared_ptr<tcp::socket> socket) {
    auto buffer = std::make_shared<std::array<char, 512>>();
    socket->async_read_some(boost::asio::buffer(*buffer), [this, socket, buffer](sdk::error_code ec, std::size_t) {
      if (ec) return;
      auto reply = std::make_shared<std::string>("HTTP/1.1 " + std::to_string(*status) +
                                                 " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      boost::asio::async_write(*socket, boost::asio::buffer(*reply),
                               [socket, reply](sdk::error_code, std::size_t) { socket->close(); });
    });
  }
};

struct ConnectResult {
  sdk::error_code ec;
  sdk::ByteStreamPtr stream;
};

std::optional<ConnectResult> connect(test::PluginFixture& f, sdk::Backend& backend) {
  std::optional<ConnectResult> result;
  backend.async_connect(sdk::StreamInfo{"203.0.113.7:5555", "127.0.0.1:20080"},
                        [&](sdk::error_code ec, sdk::ByteStreamPtr s) { result = ConnectResult{ec, std::move(s)}; });
  f.io.restart();
  for (auto deadline = std::chrono::steady_clock::now() + 10s; !result && std::chrono::steady_clock::now() < deadline;)
    f.io.run_one_for(100ms);
  return result;
}

/// Runs the loop until a log line contains `text`, or `wait` passes.
bool run_until_logged(test::PluginFixture& f, const std::string& text, std::chrono::milliseconds wait = 10s) {
  f.io.restart();
  for (auto deadline = std::chrono::steady_clock::now() + wait; std::chrono::steady_clock::now() < deadline;) {
    for (const auto& [level, line] : f.logger.lines)
      if (line.find(text) != std::string::npos) return true;
    f.io.run_one_for(50ms);
  }
  return false;
}

sdk::ConfigValue::Array targets(std::initializer_list<const Listener*> listeners) {
  sdk::ConfigValue::Array out;
  for (const auto* l : listeners) out.push_back(item(l->address()));
  return out;
}

}  // namespace

TEST_CASE("group backend spreads streams round robin over real listeners") {
  test::PluginFixture f;
  Listener a(f.io), b(f.io), c(f.io);
  auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "group",
                                      TableBuilder().set("targets", targets({&a, &b, &c})).set("health_check", "none").table());
  REQUIRE(backend);
  std::vector<sdk::ByteStreamPtr> streams;
  for (int i = 0; i < 9; ++i) {
    auto r = connect(f, *backend);
    REQUIRE(r);
    REQUIRE_FALSE(r->ec);
    streams.push_back(std::move(r->stream));
  }
  f.io.restart();
  f.io.run_for(50ms);
  CHECK(a.accepted == 3);
  CHECK(b.accepted == 3);
  CHECK(c.accepted == 3);
}

TEST_CASE("group backend retries a dead target on another one and ejects it") {
  test::PluginFixture f;
  Listener a(f.io), b(f.io);
  auto backend = f.make<sdk::Backend>(
      sdk::PluginKind::backend, "group",
      TableBuilder().set("targets", targets({&a, &b})).set("health_check", "none").set("max_connect_failures", 2).table());
  REQUIRE(backend);
  a.acceptor.close();  // refused from now on
  for (int i = 0; i < 10; ++i) {
    auto r = connect(f, *backend);
    REQUIRE(r);
    CHECK_FALSE(r->ec);  // the retry went to b
  }
  f.io.restart();
  f.io.run_for(50ms);
  CHECK(b.accepted == 10);
  // The line says what failed, not only the code every failure shares.
  CHECK(run_until_logged(
      f, "target " + a.address() + " is down: 2 connects in a row failed (last: connection refused); skipped for 10s"));
}

TEST_CASE("group backend refuses at once when no target is healthy") {
  test::PluginFixture f;
  Listener a(f.io), b(f.io);
  auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "group",
                                      TableBuilder().set("targets", targets({&a, &b})).set("health_check", "none").table());
  REQUIRE(backend);
  a.acceptor.close();
  b.acceptor.close();
  for (int i = 0; i < 5; ++i) {
    auto started = std::chrono::steady_clock::now();
    auto r = connect(f, *backend);
    REQUIRE(r);
    CHECK(r->ec == sdk::errc::backend_refused);
    CHECK_FALSE(r->stream);
    CHECK(std::chrono::steady_clock::now() - started < 1s);  // a refusal, not the 5 s connect_timeout
  }
  CHECK(run_until_logged(f, "no healthy target in the group"));
  auto refusals = std::count_if(f.logger.lines.begin(), f.logger.lines.end(), [](const auto& line) {
    return line.second.find("no healthy target") != std::string::npos;
  });
  CHECK(refusals == 1);  // once per outage, not per stream
}

TEST_CASE("group backend keeps the cause: a refused connect is backend_refused, a hung one backend_timeout") {
  test::PluginFixture f;
  test::HungListener hung(f.io);
  auto hung_target = hung.address();
  auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "group",
                                      TableBuilder()
                                          .set("targets", sdk::ConfigValue::Array{item(hung_target)})
                                          .set("health_check", "none")
                                          .set("connect_timeout", "200ms")
                                          .table());
  REQUIRE(backend);
  auto started = std::chrono::steady_clock::now();
  auto r = connect(f, *backend);
  REQUIRE(r);
  CHECK(r->ec == sdk::errc::backend_timeout);
  CHECK(std::chrono::steady_clock::now() - started < 900ms);
  CHECK(run_until_logged(f, "target " + hung_target + ": timed out (backend_timeout)", 1s));

  Listener gone(f.io);
  gone.acceptor.close();
  auto refusing =
      f.make<sdk::Backend>(sdk::PluginKind::backend, "group",
                           TableBuilder().set("targets", targets({&gone})).set("health_check", "none").table());
  REQUIRE(refusing);
  auto refused = connect(f, *refusing);
  REQUIRE(refused);
  CHECK(refused->ec == sdk::errc::backend_refused);
  CHECK(run_until_logged(f, "target " + gone.address() + ": connection refused (backend_refused)", 1s));
}

TEST_CASE("group backend says why a tcp check failed and how many in a row") {
  test::PluginFixture f;
  Listener a(f.io);
  a.acceptor.close();
  auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "group",
                                      TableBuilder()
                                          .set("targets", targets({&a}))
                                          .set("health_check_interval", "50ms")
                                          .set("health_check_timeout", "40ms")
                                          .table());
  REQUIRE(backend);
  REQUIRE(run_until_logged(
      f, "target " + a.address() + " is down: 2 tcp checks in a row failed (last: connection refused)"));
  auto r = connect(f, *backend);
  REQUIRE(r);
  CHECK(r->ec == sdk::errc::backend_refused);
  CHECK(run_until_logged(f, "no healthy target in the group (1 target, down); refusing streams until one is back", 1s));
}

TEST_CASE("group backend's HTTP checks take a target down on a wrong status and bring it back") {
  test::PluginFixture f;
  Listener a(f.io), b(f.io);
  a.status = 200;
  b.status = 503;
  auto backend = f.make<sdk::Backend>(sdk::PluginKind::backend, "group",
                                      TableBuilder()
                                          .set("targets", targets({&a, &b}))
                                          .set("health_check", "http")
                                          .set("health_check_path", "/healthz")
                                          .set("health_check_interval", "50ms")
                                          .set("health_check_timeout", "40ms")
                                          .set("rise", 2)
                                          .set("fall", 1)
                                          .table());
  REQUIRE(backend);
  REQUIRE(run_until_logged(
      f, "target " + b.address() + " is down: 1 http check (GET /healthz, expecting 200) failed (status 503)"));
  CHECK_FALSE(run_until_logged(f, "target " + a.address() + " is down", 1s));  // 20 checks of a: all passed
  b.status = 200;
  REQUIRE(run_until_logged(
      f,
      "target " + b.address() + " is up again: 2 http checks (GET /healthz, expecting 200) in a row passed (down for"));
}

TEST_CASE("group backend table errors name the key and its place") {
  test::PluginFixture f;
  CHECK_FALSE(f.make<sdk::Backend>(sdk::PluginKind::backend, "group",
                                   TableBuilder()
                                       .set("targets", sdk::ConfigValue::Array{item("127.0.0.1:1"), item("192.0.2.1:80")})
                                       .set("balance", "fastest")
                                       .table()));
  REQUIRE(f.errors().size() == 1);  // the checks across keys run only on a table that read cleanly
  CHECK_THAT(f.errors()[0], Catch::StartsWith("'balance' = \"fastest\" is not one of round_robin"));

  test::PluginFixture g;
  CHECK_FALSE(g.make<sdk::Backend>(sdk::PluginKind::backend, "group",
                                   TableBuilder()
                                       .set("targets", sdk::ConfigValue::Array{item("127.0.0.1:1"), item("192.0.2.1:80")})
                                       .set("health_check_interval", "1s")
                                       .set("health_check_timeout", "2s")
                                       .set("health_check_path", "/x")
                                       .table()));
  REQUIRE(g.diagnostics.list().size() == 3);
  CHECK_THAT(g.diagnostics.list()[0].to_string(), Catch::StartsWith("test.toml:2:1: target 192.0.2.1:80 is not a loopback"));
  CHECK_THAT(g.diagnostics.list()[1].to_string(), Catch::StartsWith("test.toml:4:1: health_check_timeout (2s) is longer"));
  CHECK(g.diagnostics.list()[2].to_string() ==
        "test.toml:5:1: health_check_path applies only to health_check = \"http\"");

  test::PluginFixture h;
  CHECK_FALSE(h.make<sdk::Backend>(sdk::PluginKind::backend, "group", TableBuilder().table()));
  REQUIRE(h.errors().size() == 1);
  CHECK_THAT(h.errors()[0], Catch::StartsWith("missing required key 'targets'"));

  // HAProxy's spelling gets ours, through the plugin as `warren check` loads it.
  test::PluginFixture haproxy;
  CHECK_FALSE(haproxy.make<sdk::Backend>(sdk::PluginKind::backend, "group",
                                         TableBuilder()
                                             .set("targets", sdk::ConfigValue::Array{item("127.0.0.1:1")})
                                             .set("balance", "leastconn")
                                             .set("rise", 0)
                                             .table()));
  REQUIRE(haproxy.errors().size() == 2);  // the other keys are still read
  CHECK_THAT(haproxy.errors()[0], Catch::EndsWith("; did you mean \"least_connections\"?"));
  CHECK_THAT(haproxy.errors()[1], Catch::Contains("'rise'"));
}

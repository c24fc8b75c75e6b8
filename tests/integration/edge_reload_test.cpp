// The edge's config reload on SIGHUP with real processes (issue 12 item 4):
// a tunnel added while a 20 MiB byte-exact transfer runs through another
// (the transfer spans the reload: half before, half after); an invalid file
// (syntax, unknown key) changes nothing and is logged as FILE:LINE:COL; a
// removed tunnel's connector loses its legs once its open stream ended while
// another tunnel's stream keeps flowing; rotated tokens refuse the old one for
// new registrations while the legs registered with it stay.

#include "loopback_services.hpp"
#include "process.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

std::string warren_binary() {
  const char* other = std::getenv("WARREN_TEST_BINARY");
  return other && *other ? other : WARREN_BINARY;
}

std::string tunnel(const std::string& id, const std::string& secret_line, std::uint16_t port) {
  return "[[tunnels]]\nid = \"" + id + "\"\n" + secret_line + "\npublic_port = " + std::to_string(port) + "\n";
}

/// An edge whose config file the test rewrites and reloads with SIGHUP.
struct ReloadEdge {
  TempDir dir;
  std::filesystem::path file = dir.path / "edge.toml";
  std::unique_ptr<BackgroundProcess> process;
  std::uint16_t quic_port = 0;
  std::string pin;

  explicit ReloadEdge(const std::string& tunnels) {
    write(tunnels);
    process = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{warren_binary(), "edge", "--config", file.string()}, dir.path / "edge.err");
    auto listen = process->wait_for_line(std::regex(R"(^listen quic 127\.0\.0\.1:(\d+)$)"), 10s);
    auto printed = process->wait_for_line(std::regex(R"(^pin (sha256:[0-9a-f]{64})$)"), 10s);
    if (!listen || !printed) FAIL("the edge did not start:\n" << process->stderr_text());
    quic_port = static_cast<std::uint16_t>(std::stoi((*listen)[1]));
    pin = (*printed)[1];
  }
  /// The whole file, written as an operator's `mv` would (atomically).
  void write(const std::string& tunnels, const std::string& more_listen = "") {
    auto temp = file;
    temp += ".new";
    std::ofstream(temp) << "[edge]\nid = \"edge-reload\"\nstate_dir = \"state\"\npublic_host = \"127.0.0.1\"\n"
                        << "heartbeat_interval = \"200ms\"\ngrace_period = \"20s\"\n\n"
                        << "[[listen]]\nplugin = \"quic\"\naddress = \"127.0.0.1:0\"\n\n"
                        << more_listen << tunnels;
    std::filesystem::rename(temp, file);
  }
  /// Sends SIGHUP and returns what the edge logged for it, once it logged
  /// that the reload was done or refused.
  std::string reload() {
    auto before = process->stderr_text().size();
    ::kill(process->pid(), SIGHUP);
    auto until = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      auto text = process->stderr_text().substr(before);
      if (text.find("reload of ") != std::string::npos || text.find("reload refused") != std::string::npos) return text;
      if (std::chrono::steady_clock::now() >= until) FAIL("no reload logged:\n" << text);
      std::this_thread::sleep_for(20ms);  // polling a log file for a line, with a deadline
    }
  }
  Connector connector(const std::string& name, const std::string& id, const std::string& token, std::uint16_t backend,
                      std::uint16_t edge_port = 0) {
    return Connector(dir.path, {.tunnel_id = id,
                                .token = token,
                                .pin = pin,
                                .edge_port = edge_port ? edge_port : quic_port,
                                .backend_port = backend,
                                .ha_connections = 1,
                                .name = name});
  }
};

/// A public client whose one connection carries bytes in several rounds:
/// each round sends its bytes and reads as many back, so the connection
/// spans whatever the test does between rounds.
class Held {
 public:
  explicit Held(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
  ~Held() { ::close(fd_); }
  /// Sends `data` and reads it back within `deadline`; false on an error,
  /// an EOF or bytes that differ.
  bool round(const std::vector<std::uint8_t>& data, std::chrono::milliseconds deadline = 60s) {
    auto until = std::chrono::steady_clock::now() + deadline;
    std::size_t sent = 0, got = 0;
    std::vector<std::uint8_t> buffer(65536);
    while (got < data.size()) {
      if (std::chrono::steady_clock::now() >= until) return false;
      pollfd p{fd_, static_cast<short>(POLLIN | (sent < data.size() ? POLLOUT : 0)), 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      if (sent < data.size()) {
        auto w = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (w > 0)
          sent += static_cast<std::size_t>(w);
        else if (w < 0 && errno != EAGAIN && errno != ENOTCONN)
          return false;
      }
      auto n = ::recv(fd_, buffer.data(), buffer.size(), 0);
      if (n == 0) return false;
      if (n < 0) {
        if (errno != EAGAIN) return false;
        continue;
      }
      if (!std::equal(buffer.begin(), buffer.begin() + n, data.begin() + static_cast<std::ptrdiff_t>(got)))
        return false;
      got += static_cast<std::size_t>(n);
    }
    return true;
  }

 private:
  int fd_ = -1;
};

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("a SIGHUP that adds a tunnel leaves a 20 MiB transfer through another byte-exact, then serves the new one",
          "[reload]") {
  EchoServer echo;
  auto web_port = free_tcp_port(), api_port = free_tcp_port();
  auto web = tunnel("web", "token = \"w\"", web_port);
  ReloadEdge edge(web);
  auto web_connector = edge.connector("web", "web", "w", echo.port());
  REQUIRE(web_connector.wait_registered(15s));

  auto data = random_bytes(20u << 20, 42);
  std::vector<std::uint8_t> first(data.begin(), data.begin() + (10 << 20)),
      second(data.begin() + (10 << 20), data.end());
  Held transfer(web_port);
  REQUIRE(transfer.round(first));

  edge.write(web + tunnel("api", "token = \"a\"", api_port));
  auto log = edge.reload();
  CHECK_THAT(log, Catch::Contains("tunnel 'api' added"));
  CHECK_THAT(log, Catch::Contains("reload of " + edge.file.string() + " done: 1 change(s)"));

  CHECK(transfer.round(second));  // the same connection: 20 MiB byte-exact across the reload
  auto api_connector = edge.connector("api", "api", "a", echo.port());
  REQUIRE(api_connector.wait_registered(15s));
  auto sample = random_bytes(64 << 10, 7);
  CHECK(echo_round_trip(api_port, sample) == sample);
  CHECK_THAT(edge.process->stderr_text(), !Catch::Contains("resetting"));
}

TEST_CASE("an invalid config on SIGHUP changes nothing: errors as FILE:LINE:COL, open streams and tunnels kept",
          "[reload]") {
  EchoServer echo;
  auto web_port = free_tcp_port(), api_port = free_tcp_port();
  auto web = tunnel("web", "token = \"w\"", web_port);
  ReloadEdge edge(web);
  auto web_connector = edge.connector("web", "web", "w", echo.port());
  REQUIRE(web_connector.wait_registered(15s));
  Held held(web_port);
  REQUIRE(held.round(bytes("before")));

  // A syntax error: the line of the broken header.
  edge.write(web + "[[tunnels]\nid = \"api\"\n");
  auto log = edge.reload();
  CHECK(std::regex_search(
      log, std::regex(std::regex_replace(edge.file.string(), std::regex(R"([.\-])"), R"(\$&)") + R"(:\d+:\d+: )")));
  CHECK_THAT(log, Catch::Contains("reload refused: " + edge.file.string() + " has 1 error; the running config stays"));
  // A key no schema knows, in an otherwise valid tunnel B.
  edge.write(web + tunnel("api", "token = \"a\"\ntokn = \"typo\"", api_port));
  log = edge.reload();
  CHECK_THAT(log, Catch::Contains(edge.file.string() + ":19:1: "));
  CHECK_THAT(log, Catch::Contains("tokn"));
  CHECK_THAT(log, Catch::Contains("reload refused"));
  CHECK_THAT(log, !Catch::Contains("added"));

  CHECK(held.round(bytes("after two refused reloads: the same connection")));
  auto api_connector = edge.connector("api", "api", "a", echo.port());
  auto code = api_connector.process().wait_exit(15s);  // B was not added
  REQUIRE(code);
  CHECK(*code == 3);
  CHECK_THAT(api_connector.process().stderr_text(), Catch::Contains("does not accept this tunnel id and token"));
  CHECK(echo_round_trip(web_port, bytes("a new connection")) == bytes("a new connection"));
}

TEST_CASE("a SIGHUP that removes a tunnel drains its stream, then its connector loses it while the other keeps flowing",
          "[reload]") {
  EchoServer echo;
  auto web_port = free_tcp_port(), api_port = free_tcp_port();
  auto web = tunnel("web", "token = \"w\"", web_port);
  ReloadEdge edge(web + tunnel("api", "token = \"a\"", api_port));
  auto web_connector = edge.connector("web", "web", "w", echo.port());
  auto api_connector = edge.connector("api", "api", "a", echo.port());
  REQUIRE(web_connector.wait_registered(15s));
  REQUIRE(api_connector.wait_registered(15s));
  Held on_web(web_port);
  auto on_api = std::make_unique<Held>(api_port);
  REQUIRE(on_web.round(bytes("web before")));
  REQUIRE(on_api->round(bytes("api before")));

  edge.write(web);
  auto log = edge.reload();
  CHECK_THAT(log, Catch::Contains("tunnel 'api' removed"));
  CHECK_THAT(log, Catch::Contains("tunnel 'api': draining 1 leg(s) for up to 20s"));
  // Draining: its open stream still flows, its public port takes nobody new.
  CHECK(on_api->round(bytes("api while draining")));
  CHECK_THROWS(echo_round_trip(api_port, bytes("x"), 5s));
  CHECK(on_web.round(bytes("web while api drains")));
  CHECK(api_connector.process().running());

  // Its last stream ends: the edge closes the leg; the connector reconnects,
  // is refused (the tunnel is gone) and exits.
  on_api.reset();
  auto code = api_connector.process().wait_exit(20s);
  REQUIRE(code);
  CHECK(*code == 3);
  CHECK_THAT(edge.process->stderr_text(), Catch::Contains("its streams ended after a reload removed its tunnel"));
  CHECK(on_web.round(bytes("web after api is gone")));
  CHECK(web_connector.process().running());
}

TEST_CASE("rotating a tunnel's tokens by SIGHUP: the new one registers, the old is refused, legs registered stay",
          "[reload]") {
  EchoServer echo;
  auto web_port = free_tcp_port();
  ReloadEdge edge(tunnel("web", "token = \"old\"", web_port));
  auto before = edge.connector("before", "web", "old", echo.port());
  REQUIRE(before.wait_registered(15s));
  Held held(web_port);
  REQUIRE(held.round(bytes("before the rotation")));

  edge.write(tunnel("web", "tokens = [\"new\"]", web_port));
  auto log = edge.reload();
  CHECK_THAT(log, Catch::Contains("tunnel 'web': its tokens changed (1 accepted now)"));

  auto fresh = edge.connector("fresh", "web", "new", echo.port());
  CHECK(fresh.wait_registered(15s));
  auto stale = edge.connector("stale", "web", "old", echo.port());
  auto code = stale.process().wait_exit(15s);
  REQUIRE(code);
  CHECK(*code == 3);
  CHECK_THAT(stale.process().stderr_text(), Catch::Contains("does not accept this tunnel id and token"));
  // The leg registered with the old token still carries its stream, and the
  // connector holding it still runs.
  CHECK(held.round(bytes("after the rotation: the same connection")));
  CHECK(before.process().running());
  for (int i = 0; i < 4; ++i) CHECK(echo_round_trip(web_port, bytes("spread over both")) == bytes("spread over both"));
}

TEST_CASE("a listener added by SIGHUP takes connectors, and removed it drains their legs while streams finish",
          "[reload]") {
  EchoServer echo;
  auto web_port = free_tcp_port(), second = free_tcp_port();
  auto web = tunnel("web", "token = \"w\"", web_port);
  ReloadEdge edge(web);
  auto listen = "[[listen]]\nplugin = \"quic\"\naddress = \"127.0.0.1:" + std::to_string(second) + "\"\n\n";
  edge.write(web, listen);
  auto log = edge.reload();
  CHECK_THAT(log, Catch::Contains("[[listen]] quic 127.0.0.1:" + std::to_string(second) + " added"));
  auto connector = edge.connector("second", "web", "w", echo.port(), second);
  REQUIRE(connector.wait_registered(15s));
  auto held = std::make_unique<Held>(web_port);
  REQUIRE(held->round(bytes("through the added listener")));

  edge.write(web);
  log = edge.reload();
  CHECK_THAT(log, Catch::Contains("[[listen]] quic 127.0.0.1:" + std::to_string(second) +
                                  " removed: stopped accepting; draining its 1 connection(s) for up to 20s"));
  CHECK(held->round(bytes("while its listener is gone")));
  held.reset();
  auto until = std::chrono::steady_clock::now() + 15s;
  while (edge.process->stderr_text().find("its streams ended after a reload removed") == std::string::npos &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(20ms);  // polling a log file for a line, with a deadline
  CHECK_THAT(edge.process->stderr_text(), Catch::Contains("its streams ended after a reload removed"));
}

TEST_CASE("a SIGHUP that finds the same certificate says nothing of it: no certificate line, no second pin line",
          "[reload]") {
  auto web = tunnel("web", "token = \"w\"", free_tcp_port());
  ReloadEdge edge(web);
  edge.write(web);
  auto log = edge.reload();
  CHECK_THAT(log, Catch::Contains("done: 0 change(s) applied, 0 left for a restart"));
  CHECK_THAT(log, !Catch::Contains("certificate"));
  // Any line the reload printed was flushed before its last log line: read what is there.
  edge.process->wait_for_line(std::regex("^no such line$"), 300ms);
  auto pins = std::count_if(edge.process->lines().begin(), edge.process->lines().end(),
                            [](const std::string& line) { return line.starts_with("pin "); });
  CHECK(pins == 1);  // the one printed at start
}

TEST_CASE("a refused SIGHUP tells its errors in file order: a [[listen]] plugin's above a [[tunnels]] typo first",
          "[reload]") {
  auto port = free_tcp_port();
  ReloadEdge edge(tunnel("web", "token = \"w\"", port));
  // Line 12 is in the quic [[listen]] table (ReloadEdge::write); the typo in [[tunnels]] below it.
  edge.write(tunnel("web", "token = \"w\"\ntokn = \"typo\"", port), "retry = \"sometimes\"\n");
  auto log = edge.reload();
  auto plugin_error = log.find(edge.file.string() + ":12:");
  auto core_error = log.find("tokn");
  REQUIRE(plugin_error != std::string::npos);
  REQUIRE(core_error != std::string::npos);
  CHECK(plugin_error < core_error);
  CHECK_THAT(log, Catch::Contains("reload refused: " + edge.file.string() + " has 2 errors; the running config stays"));
}

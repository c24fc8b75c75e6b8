// warren::Tunnel as a program uses it: started against a real edge process,
// traffic through its public address to a real echo backend, metrics() and
// status(), a graceful shutdown with a stream open, and its errors.

#include "loopback_services.hpp"
#include "tunnel_fixture.hpp"

#include <warren/tunnel.hpp>

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <future>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

warren::TunnelOptions options_for(const Edge& edge, const EchoServer& echo) {
  warren::TunnelOptions o;
  o.edges = {"127.0.0.1:" + std::to_string(edge.quic_port())};
  o.tunnel_id = "web";
  o.token = "s3cret";
  o.edge_fingerprints = {edge.pin()};
  o.backend = "127.0.0.1:" + std::to_string(echo.port());
  o.grace_period = 5s;
  o.start.timeout = 20s;
  o.start.plugin_dirs = {WARREN_PLUGIN_DIR};
  return o;
}

int connect_to(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect failed");
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

}  // namespace

TEST_CASE("embed: a tunnel started in code carries a stream and reports metrics and status") {
  TempDir dir;
  EchoServer echo;
  Edge edge(dir.path);
  auto tunnel = warren::Tunnel::start(options_for(edge, echo));
  CHECK(tunnel.public_address() == "127.0.0.1:" + std::to_string(edge.public_port()));
  CHECK(tunnel.tunnel_id() == "web");
  CHECK(tunnel.running());

  auto data = random_bytes(256 * 1024, 7);
  CHECK(echo_round_trip(port_of(tunnel.public_address()), data) == data);

  auto metrics = tunnel.metrics();
  CHECK(metrics.find("# TYPE") != std::string::npos);
  CHECK(metrics.find("registered") != std::string::npos);
  auto status = tunnel.status();
  CHECK(status.find("\"web\"") != std::string::npos);
  CHECK(status.find("127.0.0.1:" + std::to_string(edge.quic_port())) != std::string::npos);

  CHECK(tunnel.shutdown(5s));
  CHECK_FALSE(tunnel.running());
  CHECK_FALSE(tunnel.stop_reason());
  CHECK(tunnel.metrics().find("# TYPE") != std::string::npos);  // the last snapshot, after the run
}

TEST_CASE("embed: shutdown lets an open stream finish") {
  TempDir dir;
  EchoServer echo;
  Edge edge(dir.path);
  auto tunnel = warren::Tunnel::start(options_for(edge, echo));
  int fd = connect_to(port_of(tunnel.public_address()));
  std::string first = "before the shutdown;";
  REQUIRE(::send(fd, first.data(), first.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(first.size()));
  char buf[256];
  REQUIRE(::recv(fd, buf, first.size(), MSG_WAITALL) == static_cast<ssize_t>(first.size()));  // the stream is up

  auto stopped = std::async(std::launch::async, [&] { return tunnel.shutdown(10s); });
  CHECK(stopped.wait_for(300ms) == std::future_status::timeout);  // it waits for the open stream
  std::string second = "after it";
  REQUIRE(::send(fd, second.data(), second.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(second.size()));
  ::shutdown(fd, SHUT_WR);
  std::string back;  // served while the tunnel drains, to its end (the echo's half-close)
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) back.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  CHECK(back == second);
  REQUIRE(stopped.wait_for(15s) == std::future_status::ready);
  CHECK(stopped.get());  // no stream was cut
}

TEST_CASE("embed: a wrong token is a credentials error") {
  TempDir dir;
  EchoServer echo;
  Edge edge(dir.path);
  auto options = options_for(edge, echo);
  options.token = "wrong";
  try {
    warren::Tunnel::start(options);
    FAIL("started with a wrong token");
  } catch (const warren::TunnelError& e) {
    CHECK(e.failure() == warren::TunnelFailure::refused);
    CHECK(e.credentials_refused());
    CHECK(e.code() == warren::sdk::errc::auth_failed);
  }
}

TEST_CASE("embed: invalid options and TOML are told by field and by line") {
  warren::TunnelOptions o;
  o.edges = {"127.0.0.1:1"};
  o.backend = "10.0.0.1:80";  // not loopback, and allow_remote is off
  o.insecure = true;
  o.start.plugin_dirs = {WARREN_PLUGIN_DIR};
  try {
    warren::Tunnel::start(o);
    FAIL("started with a remote backend");
  } catch (const warren::TunnelError& e) {
    CHECK(e.failure() == warren::TunnelFailure::invalid_options);
    CHECK(std::string(e.what()).rfind("options.backend: ", 0) == 0);
  }
  try {
    warren::Tunnel::start_toml("[tunnel]\nha_connections = \"two\"\n", {.plugin_dirs = {WARREN_PLUGIN_DIR}});
    FAIL("started from invalid TOML");
  } catch (const warren::TunnelError& e) {
    CHECK(e.failure() == warren::TunnelFailure::invalid_options);
    CHECK(e.code() == warren::sdk::errc::config_invalid);
    CHECK(std::string(e.what()).find("<string>:2:") != std::string::npos);
  }
}

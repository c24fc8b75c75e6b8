// What can be checked at start is checked at start: an edge whose fixed
// public port, QUIC listen address or admin address is taken exits 1 at once
// with a sentence naming it and what holds it, like any server that cannot bind.

#include "background_process.hpp"
#include "cli_support.hpp"
#include "process.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <stdexcept>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

const std::string warren_binary = WARREN_BINARY;

// A socket of this test bound on 127.0.0.1 (a free port when `port` is 0).
class HeldPort {
 public:
  HeldPort(int type, std::uint16_t port = 0) : fd_(::socket(AF_INET, type, 0)) {
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(port);
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) {
      error_ = errno;
      return;
    }
    if (type == SOCK_STREAM) ::listen(fd_, 4);
    socklen_t size = sizeof at;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&at), &size);
    port_ = ntohs(at.sin_port);
  }
  ~HeldPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  HeldPort(const HeldPort&) = delete;
  HeldPort& operator=(const HeldPort&) = delete;
  std::uint16_t port() const { return port_; }
  int error() const { return error_; }  ///< errno of the bind, 0 if bound

 private:
  int fd_;
  std::uint16_t port_ = 0;
  int error_ = 0;
};

std::uint16_t free_port(int type) { return HeldPort(type).port(); }

std::string edge_config(std::uint16_t quic_port, std::uint16_t admin_port, std::uint16_t public_port) {
  return "[edge]\nid = \"edge-start\"\nstate_dir = \"state\"\npublic_host = \"127.0.0.1\"\n"
         "public_ports = \"20000-20999\"\nadmin = \"127.0.0.1:" + std::to_string(admin_port) + "\"\n"
         "[[listen]]\nplugin = \"quic\"\naddress = \"127.0.0.1:" + std::to_string(quic_port) + "\"\n"
         "[[tunnels]]\nid = \"web\"\ntoken = \"s3cret\"\npublic_port = " + std::to_string(public_port) + "\n"
         "[[tunnels]]\nid = \"api\"\ntoken = \"s3cret\"\n";
}

// This process, as the edge names it from /proc: "cli_test (pid N)".
std::string this_process() { return "(pid " + std::to_string(::getpid()) + ")"; }

std::size_t lines_with(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (const auto& line : lines(text)) n += line.find(what) != std::string::npos;
  return n;
}

ProcessResult run_edge(const TempConfig& config) {
  // Generous for a loaded machine; an edge that starts anyway runs until it.
  return run_process({warren_binary, "edge", "--config", config.file.string()}, 20s);
}

}  // namespace

TEST_CASE("an edge whose fixed public_port is taken exits 1 at start naming the tunnel, the port and its holder") {
  HeldPort held(SOCK_STREAM);
  REQUIRE(held.port() != 0);
  TempConfig config(edge_config(0, 0, held.port()), "edge.toml");
  auto r = run_edge(config);
  INFO(r.err);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("tunnel 'web': public port " + std::to_string(held.port()) + " (127.0.0.1:" +
                                    std::to_string(held.port()) + ") is in use by "));
  CHECK_THAT(r.err, Catch::Contains(this_process()));
  CHECK(lines_with(r.err, std::to_string(held.port())) == 1);  // one event, one line
  CHECK_THAT(r.out, !Catch::Contains("edge 'edge-start' ready"));
}

TEST_CASE("an edge whose QUIC listen address or admin address is taken says which address, not public port") {
  SECTION("the QUIC listen address") {
    HeldPort held(SOCK_DGRAM);
    REQUIRE(held.port() != 0);
    TempConfig config(edge_config(held.port(), 0, free_port(SOCK_STREAM)), "edge.toml");
    auto r = run_edge(config);
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("the edge's QUIC listen address 127.0.0.1:" + std::to_string(held.port()) +
                                      " is in use by "));
    CHECK_THAT(r.err, Catch::Contains(this_process()));
    CHECK_THAT(r.err, !Catch::Contains("public port"));
    CHECK(lines_with(r.err, std::to_string(held.port())) == 1);
  }
  SECTION("the admin address") {
    HeldPort held(SOCK_STREAM);
    REQUIRE(held.port() != 0);
    TempConfig config(edge_config(0, held.port(), free_port(SOCK_STREAM)), "edge.toml");
    auto r = run_edge(config);
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("the edge's admin address 127.0.0.1:" + std::to_string(held.port()) +
                                      " is in use by "));
    CHECK_THAT(r.err, Catch::Contains(this_process()));
  }
}

TEST_CASE("an edge owns its fixed public ports from the start, before any connector registers") {
  auto port = free_port(SOCK_STREAM);
  REQUIRE(port != 0);
  TempConfig config(edge_config(0, 0, port), "edge.toml");
  BackgroundProcess edge({warren_binary, "edge", "--config", config.file.string()}, config.dir / "edge.err");
  REQUIRE(edge.wait_for_line(std::regex("^pin sha256:"), 15s));
  // Another program cannot take the port now: the edge holds it.
  HeldPort late(SOCK_STREAM, port);
  INFO(edge.stderr_text());
  CHECK(late.error() == EADDRINUSE);
  CHECK(edge.stop(SIGTERM, 10s) == 0);
}

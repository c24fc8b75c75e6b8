// When a leg's connection ends, the connector ends the backend connections of
// that leg's streams at once — also a splice blocked on a backend that does
// not read, which has no operation pending on the dead stream to notice.

#include "loopback_address.hpp"
#include "loopback_services.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <thread>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

/// A backend that accepts one connection and never reads or writes: with a
/// small receive buffer, whoever sends to it soon blocks.
struct StuckBackend {
  int listener = -1, conn = -1;
  std::uint16_t port = 0;
  StuckBackend() {
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 8192;
    setsockopt(listener, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    auto a = loopback(0);
    bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(listener, 4);
    socklen_t len = sizeof a;
    getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~StuckBackend() {
    if (conn >= 0) close(conn);
    close(listener);
  }
  bool accept_within(std::chrono::milliseconds deadline) {
    pollfd p{listener, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(deadline.count())) <= 0) return false;
    conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    return conn >= 0;
  }
  int buffered() const {
    int n = 0;
    ioctl(conn, FIONREAD, &n);
    return n;
  }
  /// True once the connector closed or reset its side.
  bool closed_within(std::chrono::milliseconds deadline) {
    pollfd p{conn, POLLRDHUP, 0};
    return poll(&p, 1, static_cast<int>(deadline.count())) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
  }
};

}  // namespace

TEST_CASE("when a leg ends, the connector closes its streams' backend connections at once") {
  TempDir dir;
  StuckBackend backend;
  auto edge = std::make_unique<Edge>(dir.path);
  Connector connector(dir.path, {.pin = edge->pin(), .edge_port = edge->quic_port(), .backend_port = backend.port,
                                 .ha_connections = 1});
  REQUIRE(connector.wait_registered(10s));

  // A public client that pushes until the path to the backend is full.
  int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto at = loopback(edge->public_port());
  REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0);
  std::atomic<bool> stop{false};
  std::thread pusher([&] {
    std::vector<char> chunk(64 * 1024, 'x');
    for (int i = 0; i < 512 && !stop; ++i)
      if (::send(client, chunk.data(), chunk.size(), MSG_NOSIGNAL) <= 0) break;
  });
  REQUIRE(backend.accept_within(10s));
  // Full: the backend's buffer stops growing (the connector's write to it blocks).
  int last = -1, same = 0;
  auto until = Clock::now() + 10s;
  while (same < 5 && Clock::now() < until) {
    int now = backend.buffered();
    same = (now == last && now > 0) ? same + 1 : 0;
    last = now;
    std::this_thread::sleep_for(100ms);  // sampling interval of the condition above
  }
  REQUIRE(same >= 5);

  // The edge goes away: it closes the leg's connection.
  REQUIRE(edge->process().stop(SIGTERM, 10s));
  auto gone = Clock::now();
  bool closed = backend.closed_within(5s);
  INFO(connector.process().stderr_text());
  CHECK(closed);
  CHECK(Clock::now() - gone < 3s);

  stop = true;
  ::shutdown(client, SHUT_RDWR);
  pusher.join();
  ::close(client);
}

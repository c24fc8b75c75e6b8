// Many concurrent tunnelled TCP connections (issue 11, item 1): N public
// clients, all open at once, each echoing its own seeded random bytes
// through a real edge and connector to a `warren-loadgen echo` backend,
// checked byte by byte; none half-closes before all N have their bytes back,
// so N streams are open together. The edge and connector's peak RSS
// (VmHWM) is printed. CTest runs N = 1,000; the acceptance figure is
// N = 10,000 (WARREN_FAULT_CONNECTIONS=10000, tests/tools/fault_matrix.py).
//
// The edge is configured for it: its per-source limits (256 connections,
// 100/s) would refuse one source opening thousands, and max_streams_total /
// max_streams_per_tunnel default to 10,000 / 1,000. The connector's QUIC
// max_streams (1,024 per leg) is raised so the edge may open N streams on
// two legs at once.

#include "fault_trials.hpp"
#include "loopback_services.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <regex>
#include <string>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace warren::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const std::string loadgen = std::string(WARREN_TOOLS_DIR) + "/warren-loadgen";

/// Byte `offset` of connection `index`'s stream: seeded, computed, never stored.
std::uint8_t byte_at(std::uint64_t seed, std::uint64_t index, std::uint64_t offset) {
  std::uint64_t z = seed * 0x9e3779b97f4a7c15ULL + (index << 32) + offset / 8;  // SplitMix64 of the word
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<std::uint8_t>(z >> (8 * (offset % 8)));
}

struct Conn {
  int fd = -1;
  bool connected = false;
  std::size_t sent = 0;
  std::size_t received = 0;
  bool bad = false;  ///< a wrong byte, an early EOF or an error
  bool half_closed = false;
  bool eof = false;  ///< the clean EOF after everything came back
};

struct ManyResult {
  std::size_t exact = 0;  ///< every byte back and a clean EOF
  std::size_t bad = 0;
  std::size_t peak_open_with_all_bytes = 0;  ///< connections holding all their bytes back at once, none closed
  double all_echoed_ms = 0;
  double total_ms = 0;
  // Where a run that missed its deadline stood (0 bytes-exact only says that
  // not every connection got its bytes back, since none half-closes before):
  std::size_t connected = 0;           ///< TCP connects that completed
  double all_connected_ms = 0;         ///< when the last of them did (0: never)
  std::size_t all_bytes_back = 0;      ///< connections holding all their bytes back
  std::size_t sent_all = 0;            ///< connections that wrote all their bytes
  std::size_t connect_failed = 0;      ///< refused or reset before connecting
  std::string stalled;                 ///< the first few unfinished: index sent/received
};

/// Opens `n` connections (at most 512 connecting at once), echoes `bytes`
/// on each, and half-closes them only once every one has its bytes back.
ManyResult run_many(std::uint16_t port, std::size_t n, std::size_t bytes, std::uint64_t seed,
                    std::chrono::seconds deadline) {
  auto started = Clock::now();
  ManyResult result;
  std::vector<Conn> conns(n);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(port);
  std::size_t opened = 0, connecting = 0, complete = 0, finished = 0;
  bool closing = false;
  std::vector<std::uint8_t> buffer(64 << 10);
  std::vector<epoll_event> events(1024);

  auto finish = [&](Conn& c) {
    if (c.fd < 0) return;
    epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    c.fd = -1;
    ++finished;
  };
  auto fail = [&](Conn& c) {
    if (!c.bad && !c.connected) {
      --connecting;
      ++result.connect_failed;
    }
    c.bad = true;
    finish(c);
  };

  while (finished < n && Clock::now() - started < deadline) {
    while (opened < n && connecting < 512) {
      auto& c = conns[opened];
      c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      epoll_event e{EPOLLIN | EPOLLOUT, {.u64 = opened}};
      ++opened;
      if (c.fd < 0) {
        c.bad = true;
        ++finished;
        continue;
      }
      ++connecting;
      epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &e);
      if (connect(c.fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS) fail(c);
    }
    int ready = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
    for (int k = 0; k < ready; ++k) {
      auto index = events[k].data.u64;
      auto& c = conns[index];
      if (c.fd < 0) continue;
      if (!c.connected) {
        int error = 0;
        socklen_t size = sizeof error;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &size);
        if (error) {
          fail(c);
          continue;
        }
        c.connected = true;
        --connecting;
        if (++result.connected == n)
          result.all_connected_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
      }
      if ((events[k].events & EPOLLOUT) && c.sent < bytes) {
        auto chunk = std::min(bytes - c.sent, buffer.size());
        for (std::size_t i = 0; i < chunk; ++i) buffer[i] = byte_at(seed, index, c.sent + i);
        auto w = send(c.fd, buffer.data(), chunk, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN) {
          fail(c);
          continue;
        }
        if (w > 0) c.sent += static_cast<std::size_t>(w);
        if (c.sent == bytes) {  // nothing more to write: wait for reads only
          epoll_event e{EPOLLIN, {.u64 = index}};
          epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &e);
        }
      }
      if (events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        auto r = recv(c.fd, buffer.data(), buffer.size(), 0);
        if (r < 0 && errno == EAGAIN) continue;
        if (r < 0 || (r == 0 && (!c.half_closed || c.received != bytes))) {
          fail(c);
          continue;
        }
        if (r == 0) {
          c.eof = true;
          ++result.exact;
          finish(c);
          continue;
        }
        for (std::size_t i = 0; i < static_cast<std::size_t>(r); ++i)
          if (c.received + i >= bytes || buffer[i] != byte_at(seed, index, c.received + i)) c.bad = true;
        c.received += static_cast<std::size_t>(r);
        if (c.bad) {
          finish(c);
          continue;
        }
        if (c.received == bytes) ++complete;
        if (closing && c.received == bytes && !c.half_closed) {
          shutdown(c.fd, SHUT_WR);
          c.half_closed = true;
        }
      }
    }
    // Every connection has all its bytes back while all are still open:
    // that is the concurrency asked for. Then half-close each one.
    if (!closing && complete + (finished - result.exact) >= n) {
      closing = true;
      result.peak_open_with_all_bytes = complete;
      result.all_echoed_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
      for (auto& c : conns)
        if (c.fd >= 0 && c.received == bytes) {
          shutdown(c.fd, SHUT_WR);
          c.half_closed = true;
        }
    }
  }
  result.all_bytes_back = complete;
  for (std::size_t i = 0; i < conns.size(); ++i) {
    auto& c = conns[i];
    if (c.sent == bytes) ++result.sent_all;
    if (c.fd >= 0) close(c.fd);
    if (!c.eof) {
      if (++result.bad <= 5)
        result.stalled += (result.stalled.empty() ? "" : ",") + std::to_string(i) + ":" + std::to_string(c.sent) +
                          "/" + std::to_string(c.received) + (c.bad ? "(bad)" : "") +
                          (c.connected ? "" : "(unconnected)");
    }
  }
  close(ep);
  result.total_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  return result;
}

/// The soft open-file limit raised to the hard one; the hard limit.
std::size_t raise_open_files() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

}  // namespace

TEST_CASE("fault: many concurrent tunnelled connections each echo their own random bytes byte-exact") {
  auto n = static_cast<std::size_t>(env_number("WARREN_FAULT_CONNECTIONS", 1000));
  auto bytes = static_cast<std::size_t>(env_number("WARREN_FAULT_BYTES", 16 << 10));
  auto deadline = std::chrono::seconds(env_number("WARREN_FAULT_DEADLINE_S", 25));
  auto files = raise_open_files();
  if (files < n + 64) {
    WARN("skipped: the open-file limit (" << files << ") is below " << n + 64);
    return;
  }
  auto trials = fault_trials(1);
  for (int trial = 0; trial < trials; ++trial) {
    auto seed = fault_seed() + static_cast<std::uint64_t>(trial);
    INFO("trial " << trial << " seed " << seed << ", " << n << " connections x " << bytes << " bytes");
    TempDir dir;
    auto backend_port = free_tcp_port();
    BackgroundProcess backend({loadgen, "echo", "--port", std::to_string(backend_port), "--seconds", "600"},
                              dir.path / "backend.err");
    REQUIRE(backend.wait_for_line(std::regex("^echo ready$"), 10s));
    auto limit = std::to_string(2 * n + 100);
    Edge edge(dir.path, {.extra = "max_connections_per_source = " + limit + "\nmax_connection_rate_per_source = " +
                                  limit + "\nconnection_burst_per_source = " + limit +
                                  "\nmax_streams_per_tunnel = " + limit + "\nmax_streams_total = " + limit + "\n"});
    Connector connector(dir.path, {.pin = edge.pin(),
                                   .edge_port = edge.quic_port(),
                                   .backend_port = backend_port,
                                   .transport_extra = "max_streams = " + limit});
    REQUIRE(connector.wait_registered(15s));
    // Both legs up, so streams spread over two connections.
    REQUIRE(wait_legs_registered(connector, 2, 10s));

    auto result = run_many(edge.public_port(), n, bytes, seed, deadline);
    auto edge_hwm = status_kib(edge.process().pid(), "VmHWM").value_or(-1);
    auto connector_hwm = status_kib(connector.process().pid(), "VmHWM").value_or(-1);
    auto edge_rss = status_kib(edge.process().pid(), "VmRSS").value_or(-1);
    auto connector_rss = status_kib(connector.process().pid(), "VmRSS").value_or(-1);
    INFO(result.exact << "/" << n << " byte-exact, " << result.bad << " bad\n"
                      << edge.process().stderr_text() << "\n"
                      << connector.process().stderr_text());
    CHECK(result.peak_open_with_all_bytes == n);
    CHECK(result.exact == n);
    bool ok = result.exact == n && result.peak_open_with_all_bytes == n;
    print_figure("many_connections",
                 "seed=" + std::to_string(seed) + " ok=" + std::to_string(ok) + " connections=" + std::to_string(n) +
                     " bytes_each=" + std::to_string(bytes) + " exact=" + std::to_string(result.exact) +
                     " concurrent_with_all_bytes=" + std::to_string(result.peak_open_with_all_bytes) +
                     " connected=" + std::to_string(result.connected) + " connect_failed=" +
                     std::to_string(result.connect_failed) + " sent_all=" + std::to_string(result.sent_all) +
                     " all_bytes_back=" + std::to_string(result.all_bytes_back) +
                     " stalled=" + (result.stalled.empty() ? "-" : result.stalled) +
                     " all_connected_ms=" + std::to_string(static_cast<long>(result.all_connected_ms)) +
                     " all_echoed_ms=" + std::to_string(static_cast<long>(result.all_echoed_ms)) + " total_ms=" +
                     std::to_string(static_cast<long>(result.total_ms)) + " edge_hwm_kib=" + std::to_string(edge_hwm) +
                     " connector_hwm_kib=" + std::to_string(connector_hwm) + " edge_rss_after_kib=" +
                     std::to_string(edge_rss) + " connector_rss_after_kib=" + std::to_string(connector_rss));
    WARN(result.exact << "/" << n << " byte-exact in " << result.total_ms << " ms; peak RSS edge " << edge_hwm
                      << " KiB, connector " << connector_hwm << " KiB");
  }
}

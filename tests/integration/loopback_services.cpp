#include "loopback_services.hpp"

#include "loopback_address.hpp"

#include <warren/sdk/random.hpp>

#include <gnutls/crypto.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

namespace warren::test {
namespace {

/// Waits for `events` on `fd` until `until`; false on timeout.
bool wait_fd(int fd, short events, std::chrono::steady_clock::time_point until) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd, events, 0};
  return poll(&p, 1, static_cast<int>(left.count())) > 0;
}

}  // namespace

std::uint16_t free_tcp_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto a = loopback(0);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::uint16_t free_udp_port() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  auto a = loopback(0);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("no free UDP port");
  close(fd);
  return ntohs(a.sin_port);
}

bool tcp_port_free(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto a = loopback(port);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

EchoServer::EchoServer() {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto a = loopback(0);
  if (bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(listener_, 128) != 0)
    throw std::runtime_error("echo server cannot listen");
  socklen_t len = sizeof a;
  getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { serve(); });
}

EchoServer::~EchoServer() {
  stop_ = true;
  thread_.join();
  for (auto& w : workers_) w.join();
  close(listener_);
}

void EchoServer::serve() {
  while (!stop_) {
    pollfd p{listener_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++connections_;
    workers_.emplace_back([this, fd] {
      std::vector<char> buffer(65536);
      while (!stop_) {
        pollfd q{fd, POLLIN, 0};
        if (poll(&q, 1, 50) <= 0) continue;
        ssize_t n = read(fd, buffer.data(), buffer.size());
        if (n <= 0) break;
        for (ssize_t off = 0; off < n;) {
          ssize_t w = write(fd, buffer.data() + off, static_cast<std::size_t>(n - off));
          if (w <= 0) break;
          off += w;
        }
      }
      shutdown(fd, SHUT_WR);
      close(fd);
    });
  }
}

namespace {

int mode_index(char mode) { return mode == 'z' ? 0 : mode == 's' ? 1 : 2; }

}  // namespace

struct ScriptedBackend::Connection {
  int fd = -1;
  char mode = 0;                  ///< 0 until the first byte arrived
  std::vector<char> pending;      ///< echo bytes not written back yet
};

ScriptedBackend::ScriptedBackend(char initial_mode) : initial_mode_(initial_mode) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto a = loopback(0);
  if (bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(listener_, 256) != 0)
    throw std::runtime_error("scripted backend cannot listen");
  socklen_t len = sizeof a;
  getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { serve(); });
}

ScriptedBackend::~ScriptedBackend() {
  stop_ = true;
  thread_.join();
  close(listener_);
}

int ScriptedBackend::connections(char mode) const { return counts_[mode_index(mode)].load(); }

void ScriptedBackend::serve() {
  std::vector<Connection> connections;
  const std::vector<char> zeros(64 * 1024, 0);
  std::vector<char> buffer(64 * 1024);
  while (!stop_) {
    std::vector<pollfd> polled{{listener_, POLLIN, 0}};
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < connections.size(); ++i) {
      const auto& c = connections[i];
      short events = c.mode == 0 ? POLLIN : c.mode == 'z' ? POLLOUT : c.mode == 'e' ? (c.pending.empty() ? POLLIN : POLLOUT) : 0;
      if (c.fd < 0 || events == 0) continue;
      polled.push_back({c.fd, events, 0});
      which.push_back(i);
    }
    if (poll(polled.data(), polled.size(), 50) <= 0) continue;
    if (polled[0].revents & POLLIN) {
      int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd >= 0) {
        connections.push_back({fd, initial_mode_, {}});
        if (initial_mode_) ++counts_[mode_index(initial_mode_)];
      }
    }
    for (std::size_t k = 1; k < polled.size(); ++k) {
      if (polled[k].revents == 0) continue;
      auto& c = connections[which[k - 1]];
      bool gone = false;
      if (c.mode == 0) {
        char mode = 0;
        ssize_t n = read(c.fd, &mode, 1);
        if (n == 1 && (mode == 'z' || mode == 's' || mode == 'e')) {
          c.mode = mode;
          ++counts_[mode_index(mode)];
        } else if (n == 0 || (n < 0 && errno != EAGAIN)) {
          gone = true;
        }
      } else if (c.mode == 'z') {
        ssize_t w = send(c.fd, zeros.data(), zeros.size(), MSG_NOSIGNAL);
        if (w > 0) zeros_written_ += static_cast<std::uint64_t>(w);
        gone = w < 0 && errno != EAGAIN;
      } else if (c.pending.empty()) {
        ssize_t n = read(c.fd, buffer.data(), buffer.size());
        if (n > 0) c.pending.assign(buffer.begin(), buffer.begin() + n);
        if (n == 0) shutdown(c.fd, SHUT_WR);
        gone = n == 0 || (n < 0 && errno != EAGAIN);
      } else {
        ssize_t w = send(c.fd, c.pending.data(), c.pending.size(), MSG_NOSIGNAL);
        if (w > 0) c.pending.erase(c.pending.begin(), c.pending.begin() + w);
        gone = w < 0 && errno != EAGAIN;
      }
      if (gone) {
        close(c.fd);
        c.fd = -1;
      }
    }
    std::erase_if(connections, [](const Connection& c) { return c.fd < 0; });
  }
  for (auto& c : connections) close(c.fd);
}

StalledClients::StalledClients(std::uint16_t port, std::size_t count, std::string first, bool keep_sending)
    : keep_sending_(keep_sending) {
  for (std::size_t i = 0; i < count; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto a = loopback(port);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        send(fd, first.data(), first.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(first.size())) {
      close(fd);
      for (int f : fds_) close(f);
      throw std::runtime_error(std::string("stalled client cannot connect: ") + strerror(errno));
    }
    fds_.push_back(fd);
  }
  thread_ = std::thread([this] { run(); });
}

StalledClients::~StalledClients() {
  stop_ = true;
  thread_.join();
  for (int fd : fds_) close(fd);
}

void StalledClients::run() {
  if (!keep_sending_) return;
  const std::vector<char> chunk(64 * 1024, 'x');
  while (!stop_) {
    std::vector<pollfd> polled;
    for (int fd : fds_) polled.push_back({fd, POLLOUT, 0});
    if (poll(polled.data(), polled.size(), 50) <= 0) continue;
    for (const auto& p : polled) {
      if (!(p.revents & POLLOUT)) continue;
      ssize_t w = send(p.fd, chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) sent_ += static_cast<std::uint64_t>(w);
    }
  }
}

int StalledClients::closed_by_peer() const {
  std::vector<pollfd> polled;
  for (int fd : fds_) polled.push_back({fd, POLLRDHUP, 0});
  poll(polled.data(), polled.size(), 0);
  int closed = 0;
  for (const auto& p : polled) closed += (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
  return closed;
}

std::vector<std::uint8_t> echo_round_trip(std::uint16_t port, const std::vector<std::uint8_t>& data,
                                          std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  auto a = loopback(port);
  connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  std::vector<std::uint8_t> received;
  std::size_t sent = 0;
  bool write_closed = false;
  std::vector<std::uint8_t> buffer(65536);
  try {
    for (;;) {
      short events = POLLIN | (write_closed ? 0 : POLLOUT);
      if (!wait_fd(fd, events, until)) throw std::runtime_error("echo round trip timed out");
      if (!write_closed) {
        ssize_t w = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (w > 0) sent += static_cast<std::size_t>(w);
        else if (w < 0 && errno != EAGAIN && errno != EINPROGRESS && errno != ENOTCONN)
          throw std::runtime_error(std::string("send: ") + strerror(errno));
        if (sent == data.size()) {
          shutdown(fd, SHUT_WR);
          write_closed = true;
        }
      }
      ssize_t n = recv(fd, buffer.data(), buffer.size(), 0);
      if (n == 0) break;
      if (n > 0) received.insert(received.end(), buffer.begin(), buffer.begin() + n);
      else if (errno != EAGAIN && errno != ENOTCONN) throw std::runtime_error(std::string("recv: ") + strerror(errno));
    }
  } catch (...) {
    close(fd);
    throw;
  }
  close(fd);
  return received;
}

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint64_t seed) {
  sdk::SeededRandom random(seed);
  std::vector<std::uint8_t> out(n);
  for (std::size_t i = 0; i < n; i += 8) {
    auto r = random.next_u64();
    for (std::size_t k = 0; k < 8 && i + k < n; ++k) out[i + k] = static_cast<std::uint8_t>(r >> (8 * k));
  }
  return out;
}

std::string sha256_hex(const std::vector<std::uint8_t>& data) {
  unsigned char digest[32];
  gnutls_hash_fast(GNUTLS_DIG_SHA256, data.data(), data.size(), digest);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (auto b : digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

}  // namespace warren::test

#include "loopback_services.hpp"

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

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

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

#include "named_echo.hpp"

#include "loopback_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace warren::test {

namespace {

bool write_all(int fd, const void* data, std::size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t w = ::send(fd, p, size, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    size -= static_cast<std::size_t>(w);
  }
  return true;
}

/// Reads up to and without '\n' within `timeout`; "" on EOF, error or timeout.
std::string read_line(int fd, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  std::string line;
  char c = 0;
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    if (::read(fd, &c, 1) != 1) return "";
    if (c == '\n') return line;
    line += c;
  }
  return "";
}

int connect_loopback(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto a = loopback(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

NamedEcho::NamedEcho(std::string name) : name_(std::move(name)) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto a = loopback(0);
  if (bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(listener_, 128) != 0)
    throw std::runtime_error("named echo cannot listen");
  socklen_t len = sizeof a;
  getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { serve(); });
}

NamedEcho::~NamedEcho() {
  stop_ = true;
  thread_.join();
  for (auto& w : workers_) w.join();
  close(listener_);
}

void NamedEcho::serve() {
  while (!stop_) {
    pollfd p{listener_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++connections_;
    workers_.emplace_back([this, fd] {
      const std::string hello = name_ + "\n";
      if (write_all(fd, hello.data(), hello.size())) {
        std::vector<char> buffer(65536);
        while (!stop_) {
          pollfd q{fd, POLLIN, 0};
          if (poll(&q, 1, 50) <= 0) continue;
          ssize_t n = ::read(fd, buffer.data(), buffer.size());
          if (n <= 0 || !write_all(fd, buffer.data(), static_cast<std::size_t>(n))) break;
        }
      }
      shutdown(fd, SHUT_WR);
      close(fd);
    });
  }
}

OpenTransfer::OpenTransfer(std::uint16_t port, std::chrono::milliseconds timeout) {
  fd_ = connect_loopback(port);
  if (fd_ < 0) throw std::runtime_error("cannot connect to port " + std::to_string(port));
  backend_ = read_line(fd_, timeout);
  if (backend_.empty()) {
    close(fd_);
    throw std::runtime_error("no backend name arrived through port " + std::to_string(port));
  }
  reader_ = std::thread([this] {
    std::vector<std::uint8_t> buffer(65536);
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      ssize_t n = ::read(fd_, buffer.data(), buffer.size());
      if (n <= 0) break;
      std::lock_guard lock(mutex_);
      received_.insert(received_.end(), buffer.begin(), buffer.begin() + n);
    }
    eof_ = true;
  });
}

OpenTransfer::~OpenTransfer() {
  stop_ = true;
  reader_.join();
  close(fd_);
}

bool OpenTransfer::send(const std::uint8_t* data, std::size_t size) { return write_all(fd_, data, size); }

std::vector<std::uint8_t> OpenTransfer::finish(std::chrono::milliseconds timeout) {
  shutdown(fd_, SHUT_WR);
  auto until = std::chrono::steady_clock::now() + timeout;
  while (!eof_ && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::lock_guard lock(mutex_);
  return received_;
}

std::string backend_behind(std::uint16_t port, std::chrono::milliseconds timeout) {
  try {
    OpenTransfer t(port, timeout);
    const std::string ping = "ping";
    if (!t.send(reinterpret_cast<const std::uint8_t*>(ping.data()), ping.size())) return "";
    auto back = t.finish(timeout);
    return std::string(back.begin(), back.end()) == ping ? t.backend() : "";
  } catch (const std::runtime_error&) {
    return "";
  }
}

}  // namespace warren::test

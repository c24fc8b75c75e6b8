#include "trickle_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace warren::test {

namespace {

/// One byte within `timeout`: 1 read, 0 EOF, -1 error or timeout.
int read_byte(int fd, char& byte, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return -1;
  auto n = ::read(fd, &byte, 1);
  return n == 1 ? 1 : (n == 0 ? 0 : -1);
}

}  // namespace

TrickleClient::TrickleClient(std::uint16_t port, std::chrono::milliseconds every, std::chrono::milliseconds total) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd_);
    throw std::runtime_error("trickle client cannot connect");
  }
  started_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this, every, total] { run(every, total); });
}

TrickleClient::~TrickleClient() {
  if (thread_.joinable()) thread_.join();
  ::close(fd_);
}

void TrickleClient::run(std::chrono::milliseconds every, std::chrono::milliseconds total) {
  auto seconds = [this] {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_);
    return std::to_string(ms.count() / 1000) + "." + std::to_string(ms.count() % 1000 / 100) + " s";
  };
  for (int i = 0; std::chrono::steady_clock::now() - started_ < total; ++i) {
    char out = static_cast<char>('a' + i % 26), in = 0;
    if (::send(fd_, &out, 1, MSG_NOSIGNAL) != 1) return void(failure_ = "send failed after " + seconds());
    int got = read_byte(fd_, in, std::chrono::seconds(5));
    if (got != 1) return void(failure_ = (got == 0 ? "EOF" : "reset or silence") + std::string(" after ") + seconds());
    if (in != out) return void(failure_ = "wrong byte after " + seconds());
    ++echoed_;
    std::this_thread::sleep_for(every);  // the client's own pace, not a wait for the system
  }
  ::shutdown(fd_, SHUT_WR);
  char in = 0;
  int got = read_byte(fd_, in, std::chrono::seconds(5));
  if (got != 0) return void(failure_ = "no clean EOF at the end (" + seconds() + ")");
  ok_ = true;
}

bool TrickleClient::finished_cleanly() {
  if (thread_.joinable()) thread_.join();
  return ok_;
}

std::string TrickleClient::failure() const { return failure_; }

}  // namespace warren::test

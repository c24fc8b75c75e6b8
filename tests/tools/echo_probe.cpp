// `warren-loadgen probe`: a legitimate client. Every interval it connects
// from --bind, sends 1 KiB, half-closes and expects the same bytes back
// before --timeout-ms. Prints "ok=.. of=.." and one line per failure on stderr.

#include "loadgen.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

namespace warren::loadgen {
namespace {

/// One round trip; an empty string on success, else what went wrong.
std::string echo_once(const sockaddr_in& from, const sockaddr_in& to, const std::vector<char>& data,
                      std::chrono::milliseconds timeout) {
  auto until = Clock::now() + timeout;
  int fd = start_connect(from, to);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  std::vector<char> back;
  std::size_t sent = 0;
  bool write_closed = false;
  std::string error;
  char buffer[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) {
      error = "timed out after " + std::to_string(back.size()) + " bytes";
      break;
    }
    pollfd p{fd, static_cast<short>(POLLIN | (write_closed ? 0 : POLLOUT)), 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    if (!write_closed && (p.revents & POLLOUT)) {
      ssize_t w = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (w > 0) sent += static_cast<std::size_t>(w);
      if (sent == data.size()) {
        shutdown(fd, SHUT_WR);
        write_closed = true;
      }
    }
    ssize_t n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n == 0) break;
    if (n < 0 && errno != EAGAIN) {
      error = std::string("recv: ") + std::strerror(errno);
      break;
    }
    if (n > 0) back.insert(back.end(), buffer, buffer + n);
  }
  close(fd);
  if (error.empty() && back != data) error = "echoed " + std::to_string(back.size()) + " wrong bytes";
  return error;
}

}  // namespace

int run_probe(const Options& options) {
  auto to = target(options);
  auto from = source(options);
  auto count = options.number("count", 10, 1, 10000);
  auto interval = std::chrono::milliseconds(options.number("interval-ms", 1000, 0, 60000));
  auto timeout = std::chrono::milliseconds(options.number("timeout-ms", 2000, 1, 60000));
  std::mt19937 random(7);
  std::vector<char> data(1024);
  for (auto& c : data) c = static_cast<char>(random());
  auto start = Clock::now();
  long ok = 0;
  for (long i = 0; i < count; ++i) {
    std::this_thread::sleep_until(start + i * interval);  // paced probes, not a wait for an event
    auto error = echo_once(from, to, data, timeout);
    if (error.empty()) ++ok;
    else std::fprintf(stderr, "probe %ld at %.1fs: %s\n", i, seconds_since(start), error.c_str());
  }
  std::printf("ok=%ld of=%ld\n", ok, count);
  return 0;
}

}  // namespace warren::loadgen

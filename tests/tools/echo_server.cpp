// `warren-loadgen echo --port P --seconds S`: a single-threaded echo
// service on 127.0.0.1 (no fork per connection, backlog 4096) that serves
// for S seconds: a backend that is not the bottleneck in the acceptance runs.
// Each connection echoes until the client half-closes, then half-closes back.

#include "loadgen.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

namespace warren::loadgen {

int run_echo(const Options& options) {
  auto at = target(options);
  auto seconds = options.number("seconds", 60, 1, 3600);
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(listener, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0 || listen(listener, 4096) != 0) {
    std::perror("warren-loadgen echo");
    return 1;
  }
  std::printf("echo ready\n");
  std::fflush(stdout);
  std::vector<pollfd> fds{{listener, POLLIN, 0}};
  std::vector<char> buffer(65536);
  long served = 0;
  auto start = Clock::now();
  while (seconds_since(start) < static_cast<double>(seconds)) {
    if (poll(fds.data(), fds.size(), 100) < 0) break;
    if (fds[0].revents & POLLIN) {
      for (int fd; (fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
        fds.push_back({fd, POLLIN, 0});
        ++served;
      }
    }
    for (std::size_t i = 1; i < fds.size();) {
      bool done = false;
      if (fds[i].revents) {
        ssize_t n = recv(fds[i].fd, buffer.data(), buffer.size(), 0);
        // Echo with a blocking-ish write: the clients here read what they send.
        for (ssize_t off = 0; n > 0 && off < n;) {
          ssize_t w = send(fds[i].fd, buffer.data() + off, static_cast<std::size_t>(n - off), MSG_NOSIGNAL);
          if (w < 0 && errno == EAGAIN) {
            pollfd out{fds[i].fd, POLLOUT, 0};
            poll(&out, 1, 1000);
            continue;
          }
          if (w <= 0) break;
          off += w;
        }
        done = n == 0 || (n < 0 && errno != EAGAIN);
      }
      if (done) {
        shutdown(fds[i].fd, SHUT_WR);
        close(fds[i].fd);
        fds[i] = fds.back();
        fds.pop_back();
      } else {
        ++i;
      }
    }
  }
  for (auto& p : fds) close(p.fd);
  std::printf("served=%ld\n", served);
  return 0;
}

}  // namespace warren::loadgen

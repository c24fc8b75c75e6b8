// `warren-loadgen flood`: connect and close as fast as possible from one
// source for T seconds, keeping up to K connects in flight. --close fin (the
// default) closes politely, so the edge forwards and then tears down each
// stream; --close rst resets (no TIME_WAIT uses up this side's ports). Prints
// "attempts=.. connected=.. failed=.. per_second=..".

#include "loadgen.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

namespace warren::loadgen {

int run_flood(const Options& options) {
  auto to = target(options);
  auto from = source(options);
  auto seconds = options.number("seconds", 10, 1, 120);
  auto inflight = static_cast<std::size_t>(options.number("inflight", 64, 1, 1024));
  auto mode = options.text("close", "fin");
  if (mode != "fin" && mode != "rst") {
    std::fprintf(stderr, "warren-loadgen: --close must be fin or rst\n");
    return 2;
  }
  auto finish = [reset = mode == "rst"](int fd) { reset ? close_reset(fd) : static_cast<void>(close(fd)); };
  auto start = Clock::now();
  std::vector<pollfd> fds;
  long attempts = 0, connected = 0, failed = 0;
  while (seconds_since(start) < static_cast<double>(seconds)) {
    while (fds.size() < inflight) {
      int fd = start_connect(from, to);
      ++attempts;
      if (fd < 0) {
        ++failed;
        break;  // out of ports or descriptors: let the in-flight ones finish first
      }
      fds.push_back({fd, POLLOUT, 0});
    }
    if (poll(fds.data(), fds.size(), 50) < 0) break;
    for (std::size_t i = 0; i < fds.size();) {
      if (!fds[i].revents) {
        ++i;
        continue;
      }
      int error = 0;
      socklen_t len = sizeof error;
      getsockopt(fds[i].fd, SOL_SOCKET, SO_ERROR, &error, &len);
      if (error == 0 && (fds[i].revents & POLLOUT)) ++connected;
      else ++failed;
      finish(fds[i].fd);
      fds[i] = fds.back();
      fds.pop_back();
    }
  }
  for (auto& p : fds) close_reset(p.fd);
  auto took = seconds_since(start);
  std::printf("attempts=%ld connected=%ld failed=%ld per_second=%.0f\n", attempts, connected, failed,
              static_cast<double>(attempts) / took);
  return 0;
}

}  // namespace warren::loadgen

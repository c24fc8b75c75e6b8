// `warren-loadgen idle`: N connections that connect and then never send or
// read, held for T seconds. Prints "held ESTABLISHED" once every connect
// finished, then "attempted=.. established=.. closed_by_peer=.. open_at_end=..".

#include "loadgen.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <thread>
#include <vector>

namespace warren::loadgen {

int run_idle(const Options& options) {
  auto to = target(options);
  auto from = source(options);
  auto count = options.number("count", 1000, 1, 20000);
  auto hold = options.number("hold", 10, 1, 600);
  auto start = Clock::now();

  enum class State { connecting, open, closed };
  std::vector<pollfd> fds;
  std::vector<State> states;
  long failed_to_start = 0;
  for (long i = 0; i < count; ++i) {
    int fd = start_connect(from, to);
    if (fd < 0) {
      ++failed_to_start;
      continue;
    }
    fds.push_back({fd, POLLOUT, 0});
    states.push_back(State::connecting);
  }
  long established = 0, closed_by_peer = 0, refused = 0, connecting = static_cast<long>(fds.size());
  bool announced = false;
  while (seconds_since(start) < static_cast<double>(hold)) {
    if (!announced && connecting == 0) {
      std::printf("held %ld\n", established - closed_by_peer);
      std::fflush(stdout);
      announced = true;
    }
    if (poll(fds.data(), fds.size(), 100) < 0) break;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      auto& p = fds[i];
      if (!p.revents || states[i] == State::closed) continue;
      if (states[i] == State::connecting) {
        int error = 0;
        socklen_t len = sizeof error;
        getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &error, &len);
        --connecting;
        if (error == 0 && (p.revents & POLLOUT)) {
          ++established;
          states[i] = State::open;
          p.events = POLLRDHUP;  // only a close by the peer wakes us; data stays unread
          p.revents = 0;
          continue;
        }
        ++refused;  // reset (or refused) before this side saw it established
      } else {
        ++closed_by_peer;
      }
      states[i] = State::closed;
      p.events = 0;
      p.fd = -p.fd - 1;  // poll ignores negative descriptors
    }
  }
  long open = 0;
  for (std::size_t i = 0; i < fds.size(); ++i) {
    if (states[i] == State::open) ++open;
    close_reset(fds[i].fd >= 0 ? fds[i].fd : -fds[i].fd - 1);
  }
  if (!announced) std::printf("held %ld\n", established - closed_by_peer);
  std::printf("attempted=%ld established=%ld closed_by_peer=%ld refused_at_connect=%ld open_at_end=%ld "
              "failed_to_start=%ld\n",
              count, established, closed_by_peer, refused, open, failed_to_start);
  return 0;
}

}  // namespace warren::loadgen

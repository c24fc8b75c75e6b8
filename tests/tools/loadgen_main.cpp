// warren-loadgen MODE --port P [options]: see loadgen.hpp.
//   idle  --count N (<= 20000) --hold S (<= 600): N connections that never send or read
//   flood --seconds S (<= 120) [--inflight K]: connect/close from one source as fast as possible
//   probe --count N --interval-ms I --timeout-ms T: echo 1 KiB once per interval, count successes
//   echo --seconds S: an echo service listening on 127.0.0.1:--port (the backend)
// Common: --port (required), --bind 127.0.0.X (the source; default 127.0.0.1).

#include "loadgen.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace warren::loadgen {

std::string Options::text(const std::string& key, const std::string& fallback) const {
  auto it = values.find(key);
  return it == values.end() ? fallback : it->second;
}

long Options::number(const std::string& key, long fallback, long min, long max) const {
  auto it = values.find(key);
  if (it == values.end()) return fallback;
  char* end = nullptr;
  long v = std::strtol(it->second.c_str(), &end, 10);
  if (*end != '\0' || v < min || v > max) {
    std::fprintf(stderr, "warren-loadgen: --%s must be a number from %ld to %ld\n", key.c_str(), min, max);
    std::exit(2);
  }
  return v;
}

namespace {

sockaddr_in loopback_address(const std::string& host, long port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1 || (ntohl(a.sin_addr.s_addr) >> 24) != 127) {
    std::fprintf(stderr, "warren-loadgen: '%s' is not an IPv4 loopback address (127.0.0.0/8 only)\n", host.c_str());
    std::exit(2);
  }
  return a;
}

}  // namespace

sockaddr_in target(const Options& options) {
  if (!options.values.count("port")) {
    std::fprintf(stderr, "warren-loadgen: --port is required\n");
    std::exit(2);
  }
  return loopback_address("127.0.0.1", options.number("port", 0, 1, 65535));
}

sockaddr_in source(const Options& options) { return loopback_address(options.text("bind", "127.0.0.1"), 0); }

int start_connect(const sockaddr_in& from, const sockaddr_in& to) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (bind(fd, reinterpret_cast<const sockaddr*>(&from), sizeof from) != 0 ||
      (connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)) {
    close(fd);
    return -1;
  }
  return fd;
}

void close_reset(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace warren::loadgen

int main(int argc, char** argv) {
  using namespace warren::loadgen;
  if (argc < 2) {
    std::fprintf(stderr, "usage: warren-loadgen idle|flood|probe|echo --port P [--key value ...]\n");
    return 2;
  }
  Options options;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strncmp(argv[i], "--", 2) != 0) {
      std::fprintf(stderr, "warren-loadgen: expected --key value, got '%s'\n", argv[i]);
      return 2;
    }
    options.values[argv[i] + 2] = argv[i + 1];
  }
  if (argc % 2 != 0) {
    std::fprintf(stderr, "warren-loadgen: '%s' has no value\n", argv[argc - 1]);
    return 2;
  }
  std::string mode = argv[1];
  if (mode == "idle") return run_idle(options);
  if (mode == "flood") return run_flood(options);
  if (mode == "probe") return run_probe(options);
  if (mode == "echo") return run_echo(options);
  std::fprintf(stderr, "warren-loadgen: unknown mode '%s' (idle, flood, probe, echo)\n", mode.c_str());
  return 2;
}

// warren-bench-client: the latency clients and the echo service bench/run.py
// uses, in C++ so the client's own cost stays small next to what a tunnel adds
// (a python client adds about 15 us per round trip and a noisy p99).
//
//   echo     --bind HOST:PORT        serve echo on HOST:PORT (port 0: any); prints "echo PORT"
//   pingpong --to HOST:PORT [--count N] [--warmup W] [--size B]
//            one TCP connection (TCP_NODELAY), B-byte messages sent and read back N+W times
//   ttfb     --to HOST:PORT [--count N] [--warmup W]
//            N sequential new connections: connect, send "GET / HTTP/1.1" with
//            Connection: close, read the first response byte, then close
// The clients print one JSON line: count and p50/p90/p99/mean/min/max in microseconds.
// IPv4 only; every socket has a 10 s receive/send timeout (a stalled path fails, it never hangs).

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "warren-bench-client: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

sockaddr_in parse_address(const std::string& text) {
  auto colon = text.rfind(':');
  sockaddr_in a{};
  a.sin_family = AF_INET;
  if (colon == std::string::npos || inet_pton(AF_INET, text.substr(0, colon).c_str(), &a.sin_addr) != 1) {
    std::fprintf(stderr, "warren-bench-client: '%s' is not IPv4 HOST:PORT\n", text.c_str());
    std::exit(2);
  }
  a.sin_port = htons(static_cast<std::uint16_t>(std::atoi(text.c_str() + colon + 1)));
  return a;
}

void tune(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int dial(const sockaddr_in& to) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  tune(fd);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) fail("connect");
  return fd;
}

void send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    auto n = send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) fail("send");
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

void print_summary(std::vector<double>& us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double p) {
    double k = (static_cast<double>(us.size()) - 1) * p;
    auto lo = static_cast<std::size_t>(k);
    auto hi = std::min(lo + 1, us.size() - 1);
    return us[lo] + (us[hi] - us[lo]) * (k - static_cast<double>(lo));
  };
  double sum = 0;
  for (double v : us) sum += v;
  std::printf(
      "{\"count\": %zu, \"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, \"mean\": %.1f, \"min\": %.1f, "
      "\"max\": %.1f}\n",
      us.size(), at(0.5), at(0.9), at(0.99), sum / static_cast<double>(us.size()), us.front(), us.back());
}

double micros_since(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

int run_pingpong(const sockaddr_in& to, long count, long warmup, long size) {
  int fd = dial(to);
  std::vector<char> out(static_cast<std::size_t>(size)), in(out.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(i * 7);
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(count));
  for (long i = 0; i < warmup + count; ++i) {
    auto start = Clock::now();
    send_all(fd, out.data(), out.size());
    for (std::size_t got = 0; got < in.size();) {
      auto n = recv(fd, in.data() + got, in.size() - got, 0);
      if (n <= 0) fail("recv (echo closed or timed out)");
      got += static_cast<std::size_t>(n);
    }
    if (i >= warmup) us.push_back(micros_since(start));
    if (in != out) {
      std::fprintf(stderr, "warren-bench-client: the echo returned different bytes\n");
      return 1;
    }
  }
  close(fd);
  print_summary(us);
  return 0;
}

int run_ttfb(const sockaddr_in& to, long count, long warmup) {
  static const char request[] = "GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";
  std::vector<double> us;
  for (long i = 0; i < warmup + count; ++i) {
    auto start = Clock::now();
    int fd = dial(to);
    send_all(fd, request, sizeof request - 1);
    char first = 0;
    if (recv(fd, &first, 1, 0) != 1) fail("recv first byte");
    if (i >= warmup) us.push_back(micros_since(start));
    char rest[4096];
    while (recv(fd, rest, sizeof rest, 0) > 0) {
    }
    close(fd);
  }
  print_summary(us);
  return 0;
}

void echo_connection(int fd) {
  char buffer[65536];
  for (ssize_t n; (n = recv(fd, buffer, sizeof buffer, 0)) > 0;) send_all(fd, buffer, static_cast<std::size_t>(n));
  close(fd);
}

int run_echo(const sockaddr_in& at) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(listener, reinterpret_cast<const sockaddr*>(&at), sizeof at) != 0 || listen(listener, 1024) != 0)
    fail("bind/listen");
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  getsockname(listener, reinterpret_cast<sockaddr*>(&bound), &len);
  std::printf("echo %u\n", ntohs(bound.sin_port));
  std::fflush(stdout);
  for (;;) {
    int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int nodelay = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay);
    std::thread(echo_connection, fd).detach();  // the bench holds a handful of connections
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc % 2 != 0) {
    std::fprintf(stderr, "usage: warren-bench-client echo|pingpong|ttfb --key value ...\n");
    return 2;
  }
  std::map<std::string, std::string> options;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strncmp(argv[i], "--", 2) != 0) {
      std::fprintf(stderr, "warren-bench-client: expected --key value, got '%s'\n", argv[i]);
      return 2;
    }
    options[argv[i] + 2] = argv[i + 1];
  }
  auto number = [&](const char* key, long fallback) {
    auto it = options.find(key);
    long v = it == options.end() ? fallback : std::strtol(it->second.c_str(), nullptr, 10);
    if (v < 0 || v > 10'000'000) {
      std::fprintf(stderr, "warren-bench-client: --%s out of range\n", key);
      std::exit(2);
    }
    return v;
  };
  std::string mode = argv[1];
  if (mode == "echo") return run_echo(parse_address(options.count("bind") ? options["bind"] : "127.0.0.1:0"));
  if (!options.count("to")) {
    std::fprintf(stderr, "warren-bench-client: --to HOST:PORT is required\n");
    return 2;
  }
  auto to = parse_address(options["to"]);
  if (mode == "pingpong")
    return run_pingpong(to, std::max(1L, number("count", 2000)), number("warmup", 200),
                        std::max(1L, number("size", 64)));
  if (mode == "ttfb") return run_ttfb(to, std::max(1L, number("count", 500)), number("warmup", 20));
  std::fprintf(stderr, "warren-bench-client: unknown mode '%s' (echo, pingpong, ttfb)\n", mode.c_str());
  return 2;
}

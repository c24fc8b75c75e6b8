// warren-quic-initial-flood: sends valid-looking QUIC Initial packets (a
// real ClientHello, a fresh DCID each, see initial_template.hpp) from many
// loopback source addresses, to test an edge's defences before
// authentication. Loopback only, bounded in count and time.
//
//   warren-quic-initial-flood --target 127.0.0.1:7844 --rate 20000 --duration 20s [--sources 1024] [--max N]
//                             [--junk]
//
// --junk sends the same headers with random payloads (no key decrypts
// them): much cheaper to make, for floods of 100,000 packets/s and more.
//
// All of 127/8 is local on Linux, so each source socket binds its own
// random 127.x.y.z: to the edge these are distinct clients that never
// answer. What comes back to them is counted, which measures from outside
// what the edge sent to unvalidated addresses. The summary is printed on
// stdout as `key value` lines.

#include "initial_template.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr double max_rate = 200'000;
constexpr double max_seconds = 120;
constexpr std::uint64_t max_packets = 20'000'000;

struct Options {
  sockaddr_in target{};
  double rate = 2000;
  double seconds = 5;
  std::uint64_t count = max_packets;
  std::size_t sources = 1024;
  bool junk = false;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "warren-quic-initial-flood: %s\n"
               "usage: warren-quic-initial-flood --target 127.0.0.1:PORT [--rate PER_SECOND] [--duration SECONDS]\n"
               "                                  [--max PACKETS] [--sources N] [--junk]\n",
               why.c_str());
  std::exit(2);
}

double seconds_of(const std::string& text) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  std::string unit = end ? end : "";
  if (unit == "ms") return value / 1000;
  if (unit == "s" || unit.empty()) return value;
  usage("bad duration '" + text + "'");
}

Options parse(int argc, char** argv) {
  Options o;
  bool have_target = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--junk") {
      o.junk = true;
      continue;
    }
    if (i + 1 >= argc) usage("missing value for " + arg);
    std::string value = argv[++i];
    if (arg == "--target") {
      auto colon = value.rfind(':');
      if (colon == std::string::npos) usage("--target wants HOST:PORT");
      o.target.sin_family = AF_INET;
      o.target.sin_port = htons(static_cast<std::uint16_t>(std::stoi(value.substr(colon + 1))));
      if (inet_pton(AF_INET, value.substr(0, colon).c_str(), &o.target.sin_addr) != 1) usage("bad address " + value);
      if ((ntohl(o.target.sin_addr.s_addr) >> 24) != 127) usage("refusing a target outside 127.0.0.0/8");
      have_target = true;
    } else if (arg == "--rate") {
      o.rate = std::stod(value);
    } else if (arg == "--duration") {
      o.seconds = seconds_of(value);
    } else if (arg == "--max") {
      o.count = std::stoull(value);
    } else if (arg == "--sources") {
      o.sources = std::stoul(value);
    } else {
      usage("unknown option " + arg);
    }
  }
  if (!have_target) usage("--target is required");
  if (o.rate <= 0 || o.rate > max_rate) usage("--rate must be in (0, 200000]");
  if (o.seconds <= 0 || o.seconds > max_seconds) usage("--duration must be in (0, 120s]");
  if (o.count > max_packets) usage("--max must be at most 20000000");
  if (o.sources < 1 || o.sources > 16384) usage("--sources must be in [1, 16384]");
  return o;
}

/// A socket bound to a random 127.x.y.z (never 127.0.0.1, which the
/// legitimate clients of a test use).
int open_source(std::mt19937& random) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in local{};
    local.sin_family = AF_INET;
    std::uint32_t host = 0x7f000000u | (random() & 0x00ffffffu);
    if ((host & 0xff) == 0 || (host & 0xff) == 255 || (host & 0x00ffff00u) == 0) host = (host & ~0xffu) | 2;
    local.sin_addr.s_addr = htonl(host);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) == 0) return fd;
    ::close(fd);
  }
  throw std::runtime_error("cannot bind a loopback source address");
}

struct Totals {
  std::uint64_t sent_packets = 0, sent_bytes = 0, send_errors = 0;
  std::uint64_t received_packets = 0, received_bytes = 0, retry_packets = 0;
};

void drain(int fd, Totals& totals) {
  std::uint8_t buffer[2048];
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0) return;  // EAGAIN, or an ICMP error for an earlier send
    ++totals.received_packets;
    totals.received_bytes += static_cast<std::uint64_t>(n);
    // Long header, QUIC v1, type Retry: 0b1111xxxx.
    if (n > 0 && (buffer[0] & 0xf0) == 0xf0) ++totals.retry_packets;
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  try {
    warren::tools::InitialTemplate initial;
    std::mt19937 random(std::random_device{}());
    std::uint64_t junk_state = (static_cast<std::uint64_t>(random()) << 32) | random() | 1;
    std::vector<int> sources;
    for (std::size_t i = 0; i < options.sources; ++i) sources.push_back(open_source(random));

    Totals totals;
    std::uint8_t packet[warren::tools::InitialTemplate::datagram_size];
    auto start = Clock::now();
    auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.seconds));
    std::size_t next = 0;
    while (totals.sent_packets < options.count) {
      auto now = Clock::now();
      if (now >= deadline) break;
      double elapsed = std::chrono::duration<double>(now - start).count();
      // A sender that fell behind catches up in bursts of at most 256, so
      // the deadline is checked often and the run ends on time.
      auto due = std::min(static_cast<std::uint64_t>(elapsed * options.rate) + 1, totals.sent_packets + 256);
      if (totals.sent_packets >= due) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        continue;
      }
      for (std::uint64_t k = totals.sent_packets; k < due && totals.sent_packets < options.count; ++k) {
        std::size_t len = options.junk ? initial.write_junk(packet, junk_state) : initial.write(packet);
        int fd = sources[next];
        next = (next + 1) % sources.size();
        if (::sendto(fd, packet, len, 0, reinterpret_cast<const sockaddr*>(&options.target), sizeof(options.target)) <
            0) {
          ++totals.send_errors;
        } else {
          totals.sent_bytes += len;
        }
        ++totals.sent_packets;
        drain(fd, totals);
      }
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    // Late replies (Retry is immediate; a handshake's retransmissions are not).
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    for (int fd : sources) {
      drain(fd, totals);
      ::close(fd);
    }
    // The flooder's own CPU: on a small host it shares the cores with the
    // edge, so what it takes to make a rate is part of the figure.
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                 static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    std::printf("sent_packets %llu\nsent_bytes %llu\nsend_errors %llu\nreceived_packets %llu\nreceived_bytes %llu\n"
                "retry_packets %llu\nseconds %.3f\nrate %.0f\ncpu_seconds %.2f\ncpu_percent %.0f\n",
                static_cast<unsigned long long>(totals.sent_packets),
                static_cast<unsigned long long>(totals.sent_bytes),
                static_cast<unsigned long long>(totals.send_errors),
                static_cast<unsigned long long>(totals.received_packets),
                static_cast<unsigned long long>(totals.received_bytes),
                static_cast<unsigned long long>(totals.retry_packets), elapsed,
                elapsed > 0 ? static_cast<double>(totals.sent_packets) / elapsed : 0.0, cpu,
                elapsed > 0 ? 100 * cpu / elapsed : 0.0);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warren-quic-initial-flood: %s\n", e.what());
    return 1;
  }
}

#pragma once
// warren-loadgen: hostile and legitimate public clients for the edge's
// limits, on loopback only and bounded in count and time. Each mode prints
// one summary line of key=value pairs on stdout (scripts and tests parse it).

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace warren::loadgen {

/// Parsed "--key value" options, with the checks every mode shares.
struct Options {
  std::map<std::string, std::string> values;
  std::string text(const std::string& key, const std::string& fallback) const;
  /// A number in [min, max]; exits with status 2 and a sentence otherwise.
  long number(const std::string& key, long fallback, long min, long max) const;
};

/// The target: 127.0.0.1:--port (IPv4 loopback only).
sockaddr_in target(const Options& options);
/// The source to bind (--bind, default 127.0.0.1), which must be in 127/8.
sockaddr_in source(const Options& options);
/// A non-blocking TCP socket bound to `from` and connecting to `to`; -1 on error.
int start_connect(const sockaddr_in& from, const sockaddr_in& to);
/// Closes with RST (SO_LINGER 0): no TIME_WAIT left on this side.
void close_reset(int fd);

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start);

int run_idle(const Options& options);   // hold N connections that never send or read
int run_flood(const Options& options);  // connect and close as fast as possible
int run_probe(const Options& options);  // a legitimate echo client, once per interval
int run_echo(const Options& options);   // a single-threaded echo service (the backend)

}  // namespace warren::loadgen

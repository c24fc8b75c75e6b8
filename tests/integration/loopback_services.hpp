#pragma once
// Small real services and clients for tests, on loopback with blocking
// sockets in their own threads: an echo server, and a client that sends
// bytes and checks what comes back.

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace warren::test {

/// A port nobody listens on right now (bound, read, closed).
std::uint16_t free_tcp_port();
/// A loopback UDP port nobody is bound to right now (bound, read, closed):
/// for an edge started later, or a resolver that is down.
std::uint16_t free_udp_port();
/// True when 127.0.0.1:port can be bound right now.
bool tcp_port_free(std::uint16_t port);

/// Echoes every connection until the client half-closes, then half-closes
/// back. Each connection in its own thread. Stops in the destructor.
class EchoServer {
 public:
  EchoServer();
  ~EchoServer();
  std::uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }

 private:
  void serve();
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
  std::vector<std::thread> workers_;
};

/// A backend whose every connection picks its behaviour with its first
/// byte: 'z' streams zeros forever and never reads again, 's' is never read
/// from nor written to (a stalled backend), 'e' echoes. One thread serves
/// every connection (non-blocking, poll); the destructor closes them all.
/// With `initial_mode`, connections start in that mode without a first byte
/// (e.g. 'z': like `socat TCP-LISTEN:… OPEN:/dev/zero`).
class ScriptedBackend {
 public:
  explicit ScriptedBackend(char initial_mode = 0);
  ~ScriptedBackend();
  std::uint16_t port() const { return port_; }
  /// Connections that chose `mode` so far.
  int connections(char mode) const;
  /// Zeros written so far by every 'z' connection together.
  std::uint64_t zeros_written() const { return zeros_written_.load(); }

 private:
  struct Connection;
  void serve();
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  char initial_mode_ = 0;
  std::atomic<int> counts_[3] = {0, 0, 0};
  std::atomic<std::uint64_t> zeros_written_{0};
  std::thread thread_;
};

/// `count` public clients that connect to 127.0.0.1:port, send `first`
/// (e.g. a ScriptedBackend mode byte) and then never read. With
/// `keep_sending`, each keeps writing whenever its socket takes more, so the
/// whole path towards a backend that does not read fills up. One thread;
/// the destructor closes every connection.
class StalledClients {
 public:
  StalledClients(std::uint16_t port, std::size_t count, std::string first, bool keep_sending);
  ~StalledClients();
  std::uint64_t bytes_sent() const { return sent_.load(); }
  /// Connections the peer closed or reset (a read would have told them).
  int closed_by_peer() const;

 private:
  void run();
  std::vector<int> fds_;
  bool keep_sending_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> sent_{0};
  std::thread thread_;
};

/// Connects to 127.0.0.1:port, sends `data`, half-closes, reads until EOF.
/// Returns what came back; throws std::runtime_error on a socket error or
/// when `timeout` passes.
std::vector<std::uint8_t> echo_round_trip(std::uint16_t port, const std::vector<std::uint8_t>& data,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// `n` bytes from a seeded generator.
std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint64_t seed);

/// Hex SHA-256.
std::string sha256_hex(const std::vector<std::uint8_t>& data);

}  // namespace warren::test

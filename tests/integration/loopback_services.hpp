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

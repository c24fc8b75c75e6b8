#pragma once
// Backends that say who they are, and a client whose transfer stays open
// while a test changes things around it: for reload tests, where which
// backend a stream reached is the point.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace warren::test {

/// An echo server that first writes "NAME\n" on every connection, then
/// echoes until the client half-closes, then half-closes back.
class NamedEcho {
 public:
  explicit NamedEcho(std::string name);
  ~NamedEcho();
  std::uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }

 private:
  void serve();
  std::string name_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
  std::vector<std::thread> workers_;
};

/// One connection to 127.0.0.1:port that reads the backend's name, then
/// sends in parts (send()) while a thread reads what comes back.
class OpenTransfer {
 public:
  /// Throws std::runtime_error when it cannot connect or no name arrives in `timeout`.
  OpenTransfer(std::uint16_t port, std::chrono::milliseconds timeout);
  ~OpenTransfer();
  const std::string& backend() const { return backend_; }
  /// Writes every byte (blocking); false on a socket error.
  bool send(const std::uint8_t* data, std::size_t size);
  /// Half-closes and waits up to `timeout` for the peer's EOF; what came back.
  std::vector<std::uint8_t> finish(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::string backend_;
  std::mutex mutex_;
  std::vector<std::uint8_t> received_;
  std::atomic<bool> eof_{false};
  std::atomic<bool> stop_{false};
  std::thread reader_;
};

/// The name of the backend a fresh connection to 127.0.0.1:port reaches,
/// after a short echo through it proved the stream works; "" when it does not.
std::string backend_behind(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace warren::test

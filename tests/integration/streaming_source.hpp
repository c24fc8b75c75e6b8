#pragma once
// A backend that streams bytes to every connection until the connection
// fails (like `socat TCP-LISTEN:… OPEN:/dev/zero`), each in its own thread.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace warren::test {

class StreamingSource {
 public:
  StreamingSource();
  ~StreamingSource();
  std::uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }
  /// Bytes sent so far, all connections together: when it stops growing,
  /// every path to the clients is full.
  std::uint64_t bytes_sent() const { return bytes_sent_.load(); }

 private:
  void serve();
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<std::uint64_t> bytes_sent_{0};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::thread> workers_;
};

/// The value of an unlabelled (or fully labelled, e.g. `name{reason="x"}`)
/// sample in Prometheus text; nullopt if absent.
std::optional<double> metric_value(const std::string& text, const std::string& sample);

}  // namespace warren::test

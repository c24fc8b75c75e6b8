#pragma once
// A public client that keeps one connection busy: it sends one byte every
// `every`, checks each echo, and after `total` half-closes and waits for the
// EOF. It runs in its own thread, so a test can restart processes meanwhile.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

namespace warren::test {

class TrickleClient {
 public:
  /// Connects at once (throws if it cannot) and starts trickling.
  TrickleClient(std::uint16_t port, std::chrono::milliseconds every, std::chrono::milliseconds total);
  ~TrickleClient();

  /// Waits for the end; true when every byte came back and the stream ended with a clean EOF.
  bool finished_cleanly();
  /// Bytes echoed back so far.
  int echoed() const { return echoed_.load(); }
  /// Why it failed, if it did ("reset after 8.0 s").
  std::string failure() const;

 private:
  void run(std::chrono::milliseconds every, std::chrono::milliseconds total);

  int fd_ = -1;
  std::atomic<int> echoed_{0};
  std::atomic<bool> ok_{false};
  std::string failure_;
  std::chrono::steady_clock::time_point started_;
  std::thread thread_;
};

}  // namespace warren::test

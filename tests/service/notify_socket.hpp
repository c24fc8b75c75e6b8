#pragma once
// A fake systemd notification socket: an AF_UNIX datagram socket a test
// binds, whose path it gives a `warren` process as NOTIFY_SOCKET, and the
// sd_notify messages ("READY=1\nSTATUS=…") it receives, in order.

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace warren::test {

class NotifySocket {
 public:
  /// Binds `path` (removed first if it exists). Throws std::runtime_error.
  explicit NotifySocket(std::filesystem::path path);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::filesystem::path& path() const { return path_; }

  /// Reads what has arrived, waiting up to `deadline` for the first message
  /// for which `match` is true (messages read before count too: the first
  /// match since the start that was not returned yet). Returns it, or nullopt.
  std::optional<std::string> wait_for(const std::function<bool(const std::string&)>& match,
                                      std::chrono::milliseconds deadline);
  /// The first unreturned message containing `text` (e.g. "READY=1").
  std::optional<std::string> wait_for(const std::string& text, std::chrono::milliseconds deadline);
  /// Reads whatever has arrived without waiting.
  void drain();
  /// Every message received so far.
  const std::vector<std::string>& messages() const { return messages_; }
  /// How many received so far contain `text`.
  std::size_t count(const std::string& text) const;

 private:
  bool read_one(std::chrono::milliseconds timeout);

  std::filesystem::path path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
  std::size_t matched_up_to_ = 0;
};

/// Sets NAME=value in this process's environment, for the processes started
/// while it lives, and restores the old value when it goes.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

}  // namespace warren::test

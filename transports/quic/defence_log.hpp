#pragma once
// One log line per defence per interval, however hard a flood hits it:
// each line says how often the defence fired since the last one. Sans-io:
// the caller passes `now` and writes the line it is handed.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace warren::quic {

class DefenceLog {
 public:
  explicit DefenceLog(std::chrono::nanoseconds interval = std::chrono::seconds(10)) : interval_(interval) {}

  /// Counts `count` firings of `defence`. Returns how many firings the next
  /// line should report (these included) when a line is due, else nullopt.
  std::optional<std::uint64_t> fired(const std::string& defence, std::chrono::nanoseconds now,
                                     std::uint64_t count = 1) {
    auto& entry = entries_[defence];
    entry.unreported += count;
    if (entry.logged_once && now - entry.last < interval_) return std::nullopt;
    entry.logged_once = true;
    entry.last = now;
    return std::exchange(entry.unreported, 0);
  }

 private:
  struct Entry {
    std::chrono::nanoseconds last{0};
    std::uint64_t unreported = 0;
    bool logged_once = false;
  };
  std::chrono::nanoseconds interval_;
  std::map<std::string, Entry> entries_;
};

}  // namespace warren::quic

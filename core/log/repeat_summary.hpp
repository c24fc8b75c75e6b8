#pragma once
// Repeated identical failures, summarised (sans-io: the caller passes `now`).
// A connector that cannot reach its edge fails the same way every few
// seconds for hours; the first few lines say what is wrong, then one line per
// period says it still is ("still failing: … (12 attempts in 60 s)").

#include <warren/sdk/time.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace warren::core {

struct RepeatSummaryOptions {
  std::uint32_t shown = 3;  ///< occurrences in a row logged in full
  sdk::Duration every = std::chrono::seconds(60);  ///< then one summary line per this period
};

class RepeatSummary {
 public:
  explicit RepeatSummary(RepeatSummaryOptions options = {}) : options_(options) {}

  /// Counts one occurrence of `event` (a sentence without what changes per
  /// attempt, such as the next delay) at `now`. Returns the line to log:
  /// `full` for the first `shown` occurrences in a row, then
  /// "still failing: EVENT (N attempts in T)" once per `every`, counting the
  /// attempts since the last line; nullopt in between. Another event starts over.
  std::optional<std::string> record(const std::string& event, const std::string& full, sdk::TimePoint now);

  /// The failures stopped. Returns " after N attempts in T" when lines were
  /// held back (for the line that says it recovered), else nullopt.
  std::optional<std::string> clear(sdk::TimePoint now);

  /// Occurrences of the current event in a row; 0 after clear().
  std::uint64_t count() const { return count_; }

 private:
  RepeatSummaryOptions options_;
  std::string event_;
  std::uint64_t count_ = 0;
  sdk::TimePoint first_{};
  std::uint64_t since_line_ = 0;  ///< occurrences since the last line logged
  sdk::TimePoint line_at_{};
  bool held_back_ = false;
};

}  // namespace warren::core

#pragma once
// Datagrams dropped, said in the log (sans-io: the caller passes `now`).
// A UDP tunnel counts its drops by reason for /metrics, but a person reading
// the log should learn of them too, without a line per datagram. The shell
// reads its cumulative counts every few seconds (drop_check_interval) and
// hands them here: a reason whose count grew gets a line at once, then at
// most one per `every`, giving how many were dropped since its last line.
// Drops held back are never lost: the next line of that reason counts them.

#include <warren/sdk/time.hpp>

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace warren::core {

/// One reason's cumulative count, as /metrics shows it.
struct DropTotal {
  std::string_view reason;  ///< the metrics label: "table_full", "socket_buffer" …
  std::uint64_t total = 0;
};

/// A line's worth: `dropped` datagrams for `reason` over the last `over`.
struct DropNews {
  std::string reason;
  std::uint64_t dropped = 0;
  sdk::Duration over{};
};

/// How often a shell reads its counts for DropWarnings.
inline constexpr sdk::Duration drop_check_interval = std::chrono::seconds(5);

class DropWarnings {
 public:
  static constexpr sdk::Duration every = std::chrono::seconds(10);

  /// Counting starts at `since` (the counts were 0 then).
  explicit DropWarnings(sdk::TimePoint since) : since_(since) {}

  /// The counts read at `now`. Returns, in the order given, each reason
  /// whose count grew since its last line and whose last line is `every`
  /// old or more (or that had none): how many since that line (or `since`),
  /// over the time since the last read that found none of them (a flood a
  /// second old after a quiet hour is "in the last 5 s", not "in the last
  /// hour").
  std::vector<DropNews> update(sdk::TimePoint now, std::span<const DropTotal> totals);

 private:
  struct Said {
    std::uint64_t total = 0;  ///< the count its last line covered
    sdk::TimePoint at{};      ///< when that line was
    bool ever = false;
    sdk::TimePoint quiet_at{};  ///< the last read that found nothing beyond `total`
  };
  sdk::TimePoint since_;
  std::map<std::string, Said, std::less<>> said_;
};

/// "37 datagrams dropped in the last 4 s (table_full): ADVICE". Pure.
std::string drop_line(const DropNews& news, std::string_view advice);

}  // namespace warren::core

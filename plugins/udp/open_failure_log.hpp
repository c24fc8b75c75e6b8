#pragma once
// What the udp backend logs when it cannot open a flow's socket, sans-io
// (the caller passes `now` and what it read of the process's descriptors).
// Each flow holds a descriptor, so a connector at its open-file limit
// refuses every new flow. Each reason (an errno value) gets a warning at
// once, then at most one per 10 s; every warning says how many flows were
// refused since its last one, and for EMFILE the open-file limit, the flows
// open and what to raise. A socket that opens again gets an info line when
// refusals were held back, at most one per 10 s too; refusals not yet said
// are carried into the next line, across bursts and recoveries, never
// dropped. Without it a connector out of descriptors only counted
// backend_refused closes (trial finding: 211 of 400 flows, no word why).

#include <warren/sdk/log.hpp>
#include <warren/sdk/time.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace warren::udp {

struct LogLine {
  sdk::LogLevel level;
  std::string text;
};

/// The process's descriptors when an open failed: read then, since the
/// line may be written later (with EMFILE nothing may need a descriptor).
struct DescriptorUse {
  std::uint64_t soft_limit = 0;  ///< RLIMIT_NOFILE's soft limit; 0: unknown
  std::uint64_t hard_limit = 0;  ///< its hard limit; UINT64_MAX: unlimited
  std::uint64_t flows_open = 0;  ///< flow sockets this plugin holds open
};

/// Reads RLIMIT_NOFILE (opens nothing); `flows_open` is UdpFlow::open_count().
DescriptorUse descriptor_use(std::uint64_t flows_open);

class OpenFailureLog {
 public:
  static constexpr sdk::Duration every = std::chrono::seconds(10);

  /// Opening or connecting a flow's socket failed with `error` (an errno
  /// value) at `now`, with `use` read when it failed: the line to log, or
  /// nullopt while it is held back.
  std::optional<LogLine> failed(int error, sdk::TimePoint now, const DescriptorUse& use = {});
  /// A flow's socket opened: a line when refusals were held back and no
  /// line was written for `every` ("… open again; N flows refused in …").
  std::optional<LogLine> opened(sdk::TimePoint now);

 private:
  /// The error's words, and for EMFILE the flows open and the limits:
  /// "Too many open files (N flows open, open-file limit …, hard limit …)".
  static std::string words(int error, const DescriptorUse& use);

  struct Refusals {
    std::uint64_t held = 0;  ///< refused since this reason's last line
    sdk::TimePoint said_at{};
    bool said = false;
  };
  std::map<int, Refusals> by_reason_;
  sdk::TimePoint last_line_{};  ///< any line's
};

}  // namespace warren::udp

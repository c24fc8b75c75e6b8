#include "plugins/udp/open_failure_log.hpp"

#include <cerrno>
#include <system_error>

namespace warren::udp {

namespace {

constexpr const char* event_prefix = "cannot open a UDP socket for a new flow: ";

/// What the operator can do about `error`; "" when there is nothing to add.
std::string hint(int error) {
  switch (error) {
    case EMFILE: return "each flow holds a descriptor: raise the connector's limit (ulimit -n; systemd LimitNOFILE)";
    case ENFILE: return "the whole system is out of open files: raise fs.file-max, or find the process that holds them";
    case ENOBUFS:
    case ENOMEM: return "the kernel is short of memory for sockets";
    default: return "";
  }
}

}  // namespace

std::string OpenFailureLog::reason(int error) {
  auto words = std::generic_category().message(error);
  auto advice = hint(error);
  return advice.empty() ? words : words + "; " + advice;
}

std::optional<LogLine> OpenFailureLog::failed(int error, sdk::TimePoint now) {
  auto [at, added] = by_reason_.try_emplace(error, core::RepeatSummaryOptions{.shown = 1, .every = every});
  auto event = event_prefix + std::generic_category().message(error);
  auto line = at->second.record(event, event_prefix + reason(error), now);
  if (!line) return std::nullopt;
  return LogLine{sdk::LogLevel::warn, std::move(*line)};
}

std::optional<LogLine> OpenFailureLog::opened(sdk::TimePoint now) {
  std::uint64_t failures = 0;
  std::size_t reasons = 0;
  std::optional<std::string> said;
  for (auto& [error, summary] : by_reason_) {
    if (summary.count() == 0) continue;
    failures += summary.count();
    ++reasons;
    if (auto after = summary.clear(now)) said = after;
  }
  if (!said) return std::nullopt;
  // One reason: its own words (" after N failed attempts in T"); several: the total.
  return LogLine{sdk::LogLevel::info, "UDP sockets for new flows open again" +
                                          (reasons == 1 ? *said : " after " + std::to_string(failures) + " failures")};
}

}  // namespace warren::udp

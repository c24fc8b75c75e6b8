#include "plugins/unix/refusal_log.hpp"

#include <cerrno>
#include <system_error>

namespace warren::unix_socket {

namespace {

/// What the operator can do about `error`; "" when there is nothing to add.
std::string hint(int error, bool abstract) {
  switch (error) {
    case ENOENT: return "is the service running, and is the path right?";
    case ECONNREFUSED:
      return abstract ? "is the service running?" : "a socket file left behind by a stopped service, or not a socket";
    case EACCES:
    case EPERM: return "the connector's user needs write permission on the socket";
    default: return "";
  }
}

}  // namespace

std::string RefusalLog::reason(int error, bool abstract) {
  switch (error) {
    case ENOENT: return "no socket there (ENOENT)";
    case ECONNREFUSED:
      return abstract ? "nobody listens on that abstract name (ECONNREFUSED)" : "nobody listens on it (ECONNREFUSED)";
    case EACCES: return "permission denied (EACCES)";
    case EPERM: return "permission denied (EPERM)";
    default: return std::generic_category().message(error) + " (errno " + std::to_string(error) + ")";
  }
}

std::optional<LogLine> RefusalLog::refused(int error, sdk::TimePoint now) {
  bool abstract = !path_.empty() && path_.front() == '@';
  auto level = error == EACCES || error == EPERM ? sdk::LogLevel::warn : sdk::LogLevel::info;
  auto [at, added] = by_reason_.try_emplace(error, core::RepeatSummaryOptions{.shown = 1, .every = every});
  auto event = "backend " + path_ + " refuses streams: " + reason(error, abstract);
  auto advice = hint(error, abstract);
  auto line = at->second.record(event, advice.empty() ? event : event + ": " + advice, now);
  if (!line) return std::nullopt;
  return LogLine{level, std::move(*line)};
}

std::optional<LogLine> RefusalLog::connected(sdk::TimePoint now) {
  std::uint64_t refusals = 0;
  std::size_t reasons = 0;
  std::optional<std::string> said;
  for (auto& [error, summary] : by_reason_) {
    if (summary.count() == 0) continue;
    refusals += summary.count();
    ++reasons;
    if (auto after = summary.clear(now)) said = after;
  }
  if (!said) return std::nullopt;
  // One reason: its own words (" after N failed attempts in T"); several: the total.
  return LogLine{sdk::LogLevel::info, "backend " + path_ + " takes streams again" +
                                          (reasons == 1 ? *said : " after " + std::to_string(refusals) + " refusals")};
}

}  // namespace warren::unix_socket

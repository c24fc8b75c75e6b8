#include "plugins/udp/open_failure_log.hpp"

#include <algorithm>
#include <cerrno>
#include <limits>
#include <sys/resource.h>
#include <system_error>

namespace warren::udp {

namespace {

constexpr const char* event_prefix = "cannot open a UDP socket for a new flow: ";

/// What the operator can do about `error`; "" when there is nothing to add.
std::string hint(int error) {
  switch (error) {
    case EMFILE:
      return "each flow holds a descriptor: raise the connector's open-file limit (ulimit -n, or LimitNOFILE= in "
             "its systemd unit; warren raises its soft limit to the hard one at start), or lower max_flows of the "
             "tunnel at the edge";
    case ENFILE: return "the whole system is out of open files: raise fs.file-max, or find the process that holds them";
    case ENOBUFS:
    case ENOMEM: return "the kernel is short of memory for sockets";
    default: return "";
  }
}

std::string limit_text(std::uint64_t limit) {
  return limit == std::numeric_limits<std::uint64_t>::max() ? "unlimited" : std::to_string(limit);
}

std::string flows(std::uint64_t n) { return std::to_string(n) + (n == 1 ? " flow" : " flows"); }

}  // namespace

DescriptorUse descriptor_use(std::uint64_t flows_open) {
  DescriptorUse use;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    auto value = [](rlim_t v) {
      return v == RLIM_INFINITY ? std::numeric_limits<std::uint64_t>::max() : static_cast<std::uint64_t>(v);
    };
    use.soft_limit = value(limit.rlim_cur);
    use.hard_limit = value(limit.rlim_max);
  }
  use.flows_open = flows_open;
  return use;
}

std::string OpenFailureLog::words(int error, const DescriptorUse& use) {
  auto text = std::generic_category().message(error);
  if (error == EMFILE && use.soft_limit > 0)
    text += " (" + flows(use.flows_open) + " open, open-file limit " + limit_text(use.soft_limit) + ", hard limit " +
            limit_text(use.hard_limit) + ")";
  return text;
}

std::optional<LogLine> OpenFailureLog::failed(int error, sdk::TimePoint now, const DescriptorUse& use) {
  auto& r = by_reason_[error];
  ++r.held;
  if (r.said && now - r.said_at < every) return std::nullopt;
  auto text = event_prefix + words(error, use) + "; " + flows(r.held) + " refused" +
              (r.said ? " in the last " + sdk::human_duration(now - r.said_at) : "");
  if (auto advice = hint(error); !advice.empty()) text += "; " + advice;
  r = Refusals{0, now, true};
  last_line_ = now;
  return LogLine{sdk::LogLevel::warn, std::move(text)};
}

std::optional<LogLine> OpenFailureLog::opened(sdk::TimePoint now) {
  std::uint64_t held = 0;
  auto since = now;
  for (const auto& [error, r] : by_reason_)
    if (r.held > 0) {
      held += r.held;
      since = std::min(since, r.said_at);
    }
  if (held == 0 || now - last_line_ < every) return std::nullopt;
  for (auto& [error, r] : by_reason_)
    if (r.held > 0) r = Refusals{0, now, true};
  last_line_ = now;
  return LogLine{sdk::LogLevel::info, "UDP sockets for new flows open again; " + flows(held) + " refused in the last " +
                                          sdk::human_duration(now - since)};
}

}  // namespace warren::udp

// What the connector says when an attempt fails and when its run ends: the
// retry lines (summarised when they repeat) and the exit line, then the close.
#include "core/connector/connector_shell.hpp"
#include "core/log/logging.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

namespace warren::core {

using namespace supervisor;

namespace {

/// What a clean stop did to a udp tunnel's flows, which carry its traffic
/// (not streams): each one open when it began ended with reason shutdown.
std::string udp_stop_words(const UdpFlows& flows, std::optional<std::uint64_t> shutdowns_before) {
  if (!shutdowns_before) return "every udp flow ended";
  auto ended = flows.counters().closed(udp::CloseReason::shutdown) - *shutdowns_before;
  if (ended == 0) return "no udp flow was open";
  return std::to_string(ended) + " udp flow(s) ended by the stop (reason shutdown)";
}

}  // namespace

// One line per failed attempt: what went wrong and when the next try is;
// after a few identical ones, a "still failing" line per minute.
void ConnectorShell::retry_scheduled(const RetryScheduled& retry) {
  auto now = sdk::Clock::now();
  auto& summary = retry.leg ? legs_[*retry.leg].retries : discovery_retries_;
  std::string what = retry.leg ? legs_[*retry.leg].failure.value_or(retry.reason.message())
                               : last_failure_.value_or("discovery failed: " + retry.reason.message());
  if (retry.leg) legs_[*retry.leg].failure.reset();
  auto attempt = retry.leg ? ++legs_[*retry.leg].failed_attempts : ++failed_resolves_;
  auto full = what + "; retrying in " + sdk::human_duration(retry.delay) + " (attempt " + std::to_string(attempt + 1) +
              ")";
  auto line = summary.record(what, full, now);
  if (line && retry.leg) leg_log(*retry.leg).warn("{}", *line);  // "leg N: …"
  else if (line) log().warn("{}", *line);
}

void ConnectorShell::exit(const Exit& e) {
  exit_code_ = e.code;
  if (options_.on_exit)
    options_.on_exit(e, fatal_rejection_ ? fatal_rejection_->message : last_failure_.value_or(e.reason.message()));
  if (fatal_rejection_)
    log().error("the edge refused this tunnel: {}", fatal_rejection_->message);
  else if (e.code != 0 && e.streams_cut > 0)
    log().error("stopping: {} open stream(s) were cut during the drain: {}", e.streams_cut, e.reason.message());
  else if (e.code != 0)
    log().error("stopping: {}", last_failure_.value_or(e.reason.message()));
  else if (e.grace_expired)
    log().warn("grace period of {} is over: cutting {} open stream(s)", sdk::format_duration(config_.tunnel.grace_period),
               e.streams_cut);
  else if (e.streams_cut > 0)
    log().warn("stopping at once: cutting {} open stream(s)", e.streams_cut);
  else if (udp_flows_->carried())
    log().info("{}; stopped", udp_stop_words(*udp_flows_, udp_shutdowns_before_stop_));
  else
    log().info("every stream finished; stopped");
  timer_.cancel();
  for (auto& leg : legs_)
    for (auto* slot : {&leg.current, &leg.probe, &leg.retiring})
      slot->close(e.code == 0 ? sdk::make_error_code(sdk::errc::shutting_down) : e.reason);
  // Let the closes go out before the loop stops.
  boost::asio::post(io_, [this] { io_.stop(); });
}

}  // namespace warren::core

#pragma once
// One active health check of one group target, as the TargetPool asks for
// with ProbeTarget: a TCP connect, or an HTTP/1.1 GET (Boost.Beast) whose
// response status must be the expected one. Both end by the deadline.

#include "plugins/group/group_config.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>

#include <string>

namespace warren::group {

struct ProbeSpec {
  HealthCheck kind = HealthCheck::tcp;  ///< tcp or http
  bool allow_remote = false;
  std::string path = "/";             ///< http only
  unsigned expect_status = 200;       ///< http only
};

/// Completes once, posted to `executor`: `ok`, or not and a few words why
/// ("connect refused", "timed out", "status 503"). Keeps itself alive.
void probe_target(const boost::asio::any_io_executor& executor, const sdk::Endpoint& target, const ProbeSpec& spec,
                  sdk::TimePoint deadline, boost::asio::any_completion_handler<void(bool ok, std::string why)> handler);

}  // namespace warren::group

#pragma once
// One TCP connect to a group target, racing a deadline: a literal address
// is connected at once; a name is resolved first, and every address it
// resolves to must be loopback unless allow_remote (the tcp backend's rule).
// Used for streams and for TCP health checks alike.

#include <warren/sdk/endpoint.hpp>
#include <warren/sdk/error.hpp>
#include <warren/sdk/time.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace warren::group {

/// Completes once, posted to `executor`, with a connected socket or
/// errc::backend_refused (refused, unreachable, unresolvable),
/// errc::backend_timeout (the deadline passed), or errc::remote_not_allowed.
/// The operation keeps what it needs alive itself.
void dial_target(const boost::asio::any_io_executor& executor, sdk::Endpoint target, bool allow_remote,
                 sdk::TimePoint deadline,
                 boost::asio::any_completion_handler<void(sdk::error_code, boost::asio::ip::tcp::socket)> handler);

}  // namespace warren::group

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

#include <string>

namespace warren::group {

/// Completes once, posted to `executor`, with a connected socket, or with
/// errc::backend_refused (refused, unreachable, unresolvable),
/// errc::backend_timeout (the deadline passed) or errc::remote_not_allowed
/// and `cause`: what actually happened, for the log ("connection refused",
/// "cannot resolve db.internal: Host not found (authoritative)", "timed
/// out"), since the code alone reads the same for all of them. `cause` is
/// empty on success. The operation keeps what it needs alive itself.
using DialHandler =
    boost::asio::any_completion_handler<void(sdk::error_code, std::string cause, boost::asio::ip::tcp::socket)>;
void dial_target(const boost::asio::any_io_executor& executor, sdk::Endpoint target, bool allow_remote,
                 sdk::TimePoint deadline, DialHandler handler);

}  // namespace warren::group

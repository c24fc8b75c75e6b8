#pragma once
// warren's error codes. Policies classify failures by these codes, never by
// message text. The category carries a fixed 64-bit id so that codes made in
// one shared library compare equal in another (each plugin has its own copy of
// the category object under hidden visibility).

#include <boost/system/error_code.hpp>

#include <string>

namespace warren::sdk {

using boost::system::error_code;

enum class errc : int {
  // 0 is success and never used.
  config_invalid = 1,      ///< a config value is wrong; never retried
  auth_failed,             ///< the edge refused the credentials; fatal
  duplicate_registration,  ///< another leg holds this tunnel's connection index
  tunnel_unknown,          ///< the edge has no tunnel with this id
  tunnel_limit,            ///< the edge serves its maximum number of tunnels
  stream_limit,            ///< the tunnel has its maximum number of streams
  rate_limited,            ///< too many registrations; retry after a delay
  port_in_use,             ///< the requested public port is taken
  dial_failed,             ///< no connection to the edge could be made
  handshake_timeout,       ///< the transport or registration handshake took too long
  tls_failed,              ///< TLS handshake failed for another reason
  certificate_mismatch,    ///< the edge's certificate did not match the pin or CA
  quic_broken,             ///< QUIC (UDP) looks blocked on this path
  idle_timeout,            ///< the connection saw no traffic within the idle timeout
  heartbeat_timeout,       ///< heartbeats went unanswered within their deadline
  protocol_error,          ///< the peer sent a malformed or unexpected frame
  protocol_version,        ///< the peer speaks another protocol version
  peer_closed,             ///< the peer closed the connection
  stream_reset,            ///< the peer reset the stream
  backend_refused,         ///< the backend refused or could not be reached
  backend_timeout,         ///< the backend did not accept within its deadline
  remote_not_allowed,      ///< a backend target is not loopback and allow_remote is off
  no_edges,                ///< discovery found no edge addresses
  discovery_failed,        ///< discovery could not run (DNS server down …)
  shutting_down,           ///< the local side is stopping
  plugin_mismatch,         ///< a plugin was refused by the loader
};

/// The category of warren's error codes; equal across shared libraries.
const boost::system::error_category& category() noexcept;

inline error_code make_error_code(errc e) noexcept {
  return error_code(static_cast<int>(e), category());
}

/// True for errors that retrying cannot fix: a run stops on them.
inline bool is_fatal(const error_code& ec) noexcept {
  return ec == make_error_code(errc::auth_failed) ||
         ec == make_error_code(errc::config_invalid) ||
         ec == make_error_code(errc::tunnel_unknown) ||
         ec == make_error_code(errc::protocol_version) ||
         ec == make_error_code(errc::certificate_mismatch) ||
         ec == make_error_code(errc::remote_not_allowed) ||
         ec == make_error_code(errc::plugin_mismatch);
}

namespace detail {

class ErrorCategory final : public boost::system::error_category {
 public:
  // A fixed id: categories compare by id, so every library agrees.
  constexpr ErrorCategory() noexcept : error_category(0x7761'7272'656e'0001ULL) {}
  const char* name() const noexcept override { return "warren"; }
  std::string message(int value) const override;
};

inline std::string ErrorCategory::message(int value) const {
  switch (static_cast<errc>(value)) {
    case errc::config_invalid: return "invalid configuration";
    case errc::auth_failed: return "authentication failed";
    case errc::duplicate_registration: return "connection index already registered";
    case errc::tunnel_unknown: return "unknown tunnel";
    case errc::tunnel_limit: return "tunnel limit reached";
    case errc::stream_limit: return "stream limit reached";
    case errc::rate_limited: return "rate limited";
    case errc::port_in_use: return "public port in use";
    case errc::dial_failed: return "dial failed";
    case errc::handshake_timeout: return "handshake timed out";
    case errc::tls_failed: return "TLS handshake failed";
    case errc::certificate_mismatch: return "certificate does not match";
    case errc::quic_broken: return "QUIC blocked on this path";
    case errc::idle_timeout: return "idle timeout";
    case errc::heartbeat_timeout: return "heartbeat timeout";
    case errc::protocol_error: return "protocol error";
    case errc::protocol_version: return "unsupported protocol version";
    case errc::peer_closed: return "peer closed the connection";
    case errc::stream_reset: return "stream reset by peer";
    case errc::backend_refused: return "backend refused the connection";
    case errc::backend_timeout: return "backend connect timed out";
    case errc::remote_not_allowed: return "backend target is not loopback";
    case errc::no_edges: return "no edge addresses found";
    case errc::discovery_failed: return "edge discovery failed";
    case errc::shutting_down: return "shutting down";
    case errc::plugin_mismatch: return "plugin refused";
  }
  return "unknown warren error " + std::to_string(value);
}

}  // namespace detail

inline const boost::system::error_category& category() noexcept {
  static constexpr detail::ErrorCategory instance;
  return instance;
}

}  // namespace warren::sdk

namespace boost::system {
template <>
struct is_error_code_enum<warren::sdk::errc> : std::true_type {};
}  // namespace boost::system

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
  peer_unreachable,        ///< ICMP says nothing listens at the peer's address any more
  stateless_reset,         ///< the peer no longer knows the connection (QUIC stateless reset: it restarted)
};

}  // namespace warren::sdk

namespace boost::system {
template <>
struct is_error_code_enum<warren::sdk::errc> : std::true_type {};
}  // namespace boost::system

namespace warren::sdk {

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

/// One row per code: its stable name (snake_case, the enumerator's own name,
/// used as a metric label and in logs; never changes) and its message.
struct ErrcInfo {
  errc code;
  const char* name;
  const char* message;
};

inline constexpr ErrcInfo errc_table[] = {
    {errc::config_invalid, "config_invalid", "invalid configuration"},
    {errc::auth_failed, "auth_failed", "authentication failed"},
    {errc::duplicate_registration, "duplicate_registration", "connection index already registered"},
    {errc::tunnel_unknown, "tunnel_unknown", "unknown tunnel"},
    {errc::tunnel_limit, "tunnel_limit", "tunnel limit reached"},
    {errc::stream_limit, "stream_limit", "stream limit reached"},
    {errc::rate_limited, "rate_limited", "rate limited"},
    {errc::port_in_use, "port_in_use", "public port in use"},
    {errc::dial_failed, "dial_failed", "dial failed"},
    {errc::handshake_timeout, "handshake_timeout", "handshake timed out"},
    {errc::tls_failed, "tls_failed", "TLS handshake failed"},
    {errc::certificate_mismatch, "certificate_mismatch", "certificate does not match"},
    {errc::quic_broken, "quic_broken", "QUIC blocked on this path"},
    {errc::idle_timeout, "idle_timeout", "idle timeout"},
    {errc::heartbeat_timeout, "heartbeat_timeout", "heartbeat timeout"},
    {errc::protocol_error, "protocol_error", "protocol error"},
    {errc::protocol_version, "protocol_version", "unsupported protocol version"},
    {errc::peer_closed, "peer_closed", "peer closed the connection"},
    {errc::stream_reset, "stream_reset", "stream reset by peer"},
    {errc::backend_refused, "backend_refused", "backend refused the connection"},
    {errc::backend_timeout, "backend_timeout", "backend connect timed out"},
    {errc::remote_not_allowed, "remote_not_allowed", "backend target is not loopback"},
    {errc::no_edges, "no_edges", "no edge addresses found"},
    {errc::discovery_failed, "discovery_failed", "edge discovery failed"},
    {errc::shutting_down, "shutting_down", "shutting down"},
    {errc::plugin_mismatch, "plugin_mismatch", "plugin refused"},
    {errc::peer_unreachable, "peer_unreachable", "peer unreachable (ICMP)"},
    {errc::stateless_reset, "stateless_reset", "peer lost the connection's state (stateless reset)"},
};

inline const ErrcInfo* find_errc(int value) noexcept {
  for (const auto& info : errc_table)
    if (static_cast<int>(info.code) == value) return &info;
  return nullptr;
}

/// The code's stable name ("auth_failed"), or "unknown" for a value that is
/// not one of warren's codes.
inline const char* name(errc code) noexcept {
  const ErrcInfo* info = find_errc(static_cast<int>(code));
  return info ? info->name : "unknown";
}

/// A stable name for any code: warren's own by name, others as
/// "category:value" ("system:111").
std::string name(const error_code& ec);

namespace detail {

class ErrorCategory final : public boost::system::error_category {
 public:
  // A fixed id: categories compare by id, so every library agrees.
  constexpr ErrorCategory() noexcept : error_category(0x7761'7272'656e'0001ULL) {}
  const char* name() const noexcept override { return "warren"; }
  std::string message(int value) const override;
};

inline std::string ErrorCategory::message(int value) const {
  if (const ErrcInfo* info = find_errc(value)) return info->message;
  return "unknown warren error " + std::to_string(value);
}

}  // namespace detail

inline const boost::system::error_category& category() noexcept {
  static constexpr detail::ErrorCategory instance;
  return instance;
}

inline std::string name(const error_code& ec) {
  if (ec.category() == category()) return name(static_cast<errc>(ec.value()));
  return std::string(ec.category().name()) + ":" + std::to_string(ec.value());
}

}  // namespace warren::sdk

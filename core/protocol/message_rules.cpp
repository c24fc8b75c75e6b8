#include "core/protocol/message_rules.hpp"

#include <algorithm>
#include <limits>
#include <string_view>
#include <type_traits>

namespace warren::core::protocol {
namespace {

using Problem = std::optional<std::string>;

// Text must fit its limit and hold no NUL: peers log these strings and
// compare ids, and an embedded NUL would make two different ids look equal
// to C APIs.
Problem check_text(std::string_view field, const std::string& value, std::size_t limit) {
  if (value.size() > limit)
    return std::string(field) + " is " + std::to_string(value.size()) + " bytes, limit " + std::to_string(limit);
  if (value.find('\0') != std::string::npos) return std::string(field) + " contains a NUL byte";
  return std::nullopt;
}

// Millisecond fields travel as UInt32.
Problem check_millis(std::string_view field, std::chrono::milliseconds value) {
  if (value.count() < 0) return std::string(field) + " is negative";
  if (value.count() > std::numeric_limits<std::uint32_t>::max()) return std::string(field) + " does not fit 32 bits";
  return std::nullopt;
}

template <typename... Checks>
Problem first_of(Checks&&... checks) {
  Problem found;
  // Evaluate left to right and keep the first problem.
  ((found ? void() : void(found = std::forward<Checks>(checks)())), ...);
  return found;
}

Problem check(const RegisterConnection& m) {
  return first_of([&] { return check_text("tunnel id", m.tunnel_id, TextLimits::id); },
                  [&] { return check_text("token", m.token, TextLimits::secret); },
                  [&] { return check_text("client version", m.client_version, TextLimits::version); },
                  [&]() -> Problem {
                    if (auto why = connector_id_problem(m.connector_id)) return "connector id " + *why;
                    return std::nullopt;
                  },
                  [&]() -> Problem {
                    if (m.conn_index >= kMaxLegs)
                      return "connection index " + std::to_string(m.conn_index) + " is not below " +
                             std::to_string(kMaxLegs);
                    // A named tunnel needs its id; a quick tunnel gets one from the edge.
                    if (!m.quick_tunnel && m.tunnel_id.empty()) return std::string("tunnel id is empty");
                    // A quick tunnel's first leg asks with neither; every later leg (and
                    // every reconnect) joins with both, as the edge assigned them.
                    if (m.quick_tunnel && m.tunnel_id.empty() != m.token.empty())
                      return std::string("a quick tunnel carries both its assigned id and token, or neither");
                    return std::nullopt;
                  });
}

Problem check(const Registered& m) {
  return first_of([&] { return check_text("edge id", m.edge_id, TextLimits::id); },
                  [&] { return check_text("location", m.location, TextLimits::id); },
                  [&] { return check_text("public address", m.public_address, TextLimits::address); },
                  [&] { return check_text("tunnel id", m.tunnel_id, TextLimits::id); },
                  [&] { return check_text("token", m.token, TextLimits::secret); },
                  [&] { return check_millis("heartbeat interval", m.heartbeat_interval); },
                  [&] { return check_millis("flow idle timeout", m.flow_idle_timeout); },
                  [&]() -> Problem {
                    auto i = m.heartbeat_interval;
                    if (i.count() != 0 && (i < kMinHeartbeatInterval || i > kMaxHeartbeatInterval))
                      return "heartbeat interval " + std::to_string(i.count()) + "ms is outside 10ms..10m";
                    return std::nullopt;
                  });
}

Problem check(const Rejected& m) {
  return first_of([&]() -> Problem {
                    if (!is_rejection_code(m.code))
                      return "error code " + std::to_string(static_cast<int>(m.code)) + " cannot be sent as a rejection";
                    return std::nullopt;
                  },
                  [&] { return check_text("message", m.message, TextLimits::message); },
                  [&] { return check_millis("retry after", m.retry_after); });
}

Problem check(const Heartbeat&) { return std::nullopt; }
Problem check(const HeartbeatAck&) { return std::nullopt; }
Problem check(const Unregister& m) { return check_millis("grace period", m.grace_period); }
Problem check(const UnregisterAck&) { return std::nullopt; }

}  // namespace

bool is_rejection_code(sdk::errc code) noexcept {
  using sdk::errc;
  static constexpr errc codes[] = {errc::auth_failed,  errc::duplicate_registration, errc::tunnel_unknown,
                                   errc::tunnel_limit, errc::stream_limit,           errc::rate_limited,
                                   errc::port_in_use,  errc::protocol_error,         errc::protocol_version,
                                   errc::shutting_down, errc::config_invalid};
  return std::find(std::begin(codes), std::end(codes), code) != std::end(codes);
}

bool is_stream_refusal_code(sdk::errc code) noexcept {
  using sdk::errc;
  static constexpr errc codes[] = {errc::backend_refused, errc::backend_timeout, errc::remote_not_allowed,
                                   errc::shutting_down, errc::protocol_error};
  return std::find(std::begin(codes), std::end(codes), code) != std::end(codes);
}

std::optional<std::string> connector_id_problem(std::string_view id) {
  if (id.size() > TextLimits::connector_id)
    return "is " + std::to_string(id.size()) + " bytes, limit " + std::to_string(TextLimits::connector_id);
  for (char c : id) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return std::string("may hold only ASCII letters, digits, '.', '_' and '-'");
  }
  return std::nullopt;
}

std::optional<std::string> find_problem(const ControlMessage& message) {
  return std::visit([](const auto& m) { return check(m); }, message);
}

std::optional<std::string> find_problem(const StreamHeader& header) {
  return first_of([&] { return check_text("client address", header.client_address, TextLimits::address); },
                  [&] { return check_text("listener", header.listener, TextLimits::id); },
                  [&]() -> Problem {
                    if (header.kind != StreamKind::tcp && header.kind != StreamKind::udp)
                      return std::string("unknown stream kind");
                    return std::nullopt;
                  });
}

std::optional<std::string> find_problem(const StreamReply& reply) {
  if (reply.refused && !is_stream_refusal_code(*reply.refused))
    return "error code " + std::to_string(static_cast<int>(*reply.refused)) + " cannot be sent as a stream refusal";
  return std::nullopt;
}

}  // namespace warren::core::protocol

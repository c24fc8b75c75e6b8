#pragma once
// What makes a message acceptable, checked in one place: the encoder refuses
// to write what the decoder would refuse to read, and the decoder checks
// every frame it converts. Limits are small on purpose: control messages
// carry ids and short strings, never payload.

#include "core/protocol/messages.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace warren::core::protocol {

/// The most HA legs a tunnel may have; conn_index is below this.
inline constexpr std::uint8_t kMaxLegs = 4;

/// Longest accepted text fields, in bytes.
struct TextLimits {
  static constexpr std::size_t id = 128;        ///< tunnel id, edge id, location, listener
  static constexpr std::size_t secret = 1024;   ///< tokens
  static constexpr std::size_t address = 300;   ///< "host:port" (a DNS name is at most 253)
  static constexpr std::size_t version = 64;    ///< client version string
  static constexpr std::size_t message = 1024;  ///< a rejection's human-readable text
  static constexpr std::size_t connector_id = 64;  ///< a replica's id (see connector_id_problem)
};

/// Interval bounds for an edge-assigned heartbeat (zero means "your default").
inline constexpr std::chrono::milliseconds kMinHeartbeatInterval{10};
inline constexpr std::chrono::milliseconds kMaxHeartbeatInterval{std::chrono::minutes(10)};

/// True for the codes an edge may put in a Rejected (those with a wire form).
bool is_rejection_code(sdk::errc code) noexcept;

/// True for the codes a connector may put in a StreamReply refusal.
bool is_stream_refusal_code(sdk::errc code) noexcept;

/// Why `id` cannot be a connector id, or nullopt: at most
/// TextLimits::connector_id bytes of ASCII letters, digits, '.', '_', '-'
/// (the edge writes it into log lines and metrics). Empty is allowed on
/// the wire: a connector from before replicas.
std::optional<std::string> connector_id_problem(std::string_view id);

/// Why `message` may not travel, or nullopt when it may.
std::optional<std::string> find_problem(const ControlMessage& message);
std::optional<std::string> find_problem(const StreamHeader& header);
std::optional<std::string> find_problem(const StreamReply& reply);

}  // namespace warren::core::protocol

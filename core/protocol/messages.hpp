#pragma once
// The control protocol's messages as plain C++ values. Nothing here knows
// Cap'n Proto: the codec (frame_encoder / frame_decoder) converts between
// these structs and frames, so the supervisor, the edge and their tests use
// ordinary values.

#include <warren/sdk/error.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace warren::core::protocol {

/// The version this build speaks. 2 added UnregisterAck (see control.capnp).
inline constexpr std::uint32_t kProtocolVersion = 2;
/// The oldest connector version an edge of this build still serves.
inline constexpr std::uint32_t kOldestProtocolVersion = 1;
/// The first version whose edges answer Unregister with UnregisterAck and
/// whose connectors keep heartbeating while they drain.
inline constexpr std::uint32_t kUnregisterAckVersion = 2;

/// Connector -> edge, the first message on a connection's control stream.
struct RegisterConnection {
  std::uint32_t protocol_version = kProtocolVersion;
  std::string tunnel_id;              ///< empty to ask for a new quick tunnel
  std::string token;                  ///< empty to ask for a new quick tunnel
  std::uint8_t conn_index = 0;        ///< the HA leg, 0 .. kMaxLegs-1
  bool replace_existing = false;      ///< a reconnect: evict a stale leg with this index
  std::string client_version;
  std::uint16_t requested_public_port = 0;  ///< 0: the edge assigns one
  bool quick_tunnel = false;          ///< with id and token: join that quick tunnel
  /// The connector process (replica) this leg belongs to: its legs replace
  /// only each other. Empty from connectors older than replicas.
  std::string connector_id;
  /// This connector can answer each data stream with a StreamReply.
  bool stream_replies = false;
  friend bool operator==(const RegisterConnection&, const RegisterConnection&) = default;
};

/// What a tunnel carries, and a data stream with it: TCP streams, or UDP
/// datagrams (issue 13).
enum class StreamKind : std::uint8_t { tcp, udp };

/// Edge -> connector: the registration was accepted.
struct Registered {
  std::string edge_id;
  std::string location;
  std::string public_address;
  std::chrono::milliseconds heartbeat_interval{0};  ///< zero: the connector keeps its default
  std::string tunnel_id;                            ///< assigned for a quick tunnel
  std::string token;                                ///< assigned for a quick tunnel
  /// The edge reads a StreamReply first on every data stream of this leg.
  bool stream_replies = false;
  /// What the tunnel carries: the connector checks its backend carries it.
  /// tcp from an edge older than UDP tunnels.
  StreamKind kind = StreamKind::tcp;
  /// udp: the edge ends a flow quiet this long (a close frame says so); the
  /// connector ends its half a little later, should that frame be lost.
  /// Zero for tcp and from an edge older than UDP tunnels.
  std::chrono::milliseconds flow_idle_timeout{0};
  friend bool operator==(const Registered&, const Registered&) = default;
};

/// Edge -> connector: the registration was refused.
struct Rejected {
  sdk::errc code = sdk::errc::protocol_error;
  std::string message;
  bool fatal = false;
  std::chrono::milliseconds retry_after{0};  ///< a lower bound on the next delay
  friend bool operator==(const Rejected&, const Rejected&) = default;
};

/// Either side; answered by a HeartbeatAck carrying the same two fields.
struct Heartbeat {
  std::uint64_t sequence = 0;
  std::int64_t sent_at_ns = 0;  ///< the sender's own monotonic clock
  friend bool operator==(const Heartbeat&, const Heartbeat&) = default;
};

struct HeartbeatAck {
  std::uint64_t sequence = 0;
  std::int64_t sent_at_ns = 0;  ///< echoed from the Heartbeat: RTT = now - sent_at
  friend bool operator==(const HeartbeatAck&, const HeartbeatAck&) = default;
};

/// Connector -> edge: send no new streams on this leg; drain for the grace period.
struct Unregister {
  std::chrono::milliseconds grace_period{0};
  friend bool operator==(const Unregister&, const Unregister&) = default;
};

/// Edge -> connector (protocol 2): no more streams on this leg, and every one
/// it opened has ended at the edge; `streams_opened` counts them, so the
/// connector knows when the last one has arrived (see control.capnp).
struct UnregisterAck {
  std::uint64_t streams_opened = 0;
  friend bool operator==(const UnregisterAck&, const UnregisterAck&) = default;
};

/// Everything that travels on a control stream.
using ControlMessage =
    std::variant<RegisterConnection, Registered, Rejected, Heartbeat, HeartbeatAck, Unregister, UnregisterAck>;

/// Edge -> connector: the first frame of every data stream; raw bytes follow.
struct StreamHeader {
  std::string client_address;  ///< the public client's "address:port"
  std::string listener;        ///< the public listener that accepted it
  StreamKind kind = StreamKind::tcp;
  friend bool operator==(const StreamHeader&, const StreamHeader&) = default;
};

/// Connector -> edge: the first frame on a data stream when both sides set
/// stream_replies, before any backend byte. `refused` empty: the backend
/// connection is up; else why the connector will not serve the stream (one
/// of backend_refused, backend_timeout, remote_not_allowed, shutting_down,
/// protocol_error for a stream kind it does not serve).
struct StreamReply {
  std::optional<sdk::errc> refused;
  friend bool operator==(const StreamReply&, const StreamReply&) = default;
};

}  // namespace warren::core::protocol

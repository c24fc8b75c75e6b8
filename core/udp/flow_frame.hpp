#pragma once
// The wire format of a UDP tunnel's datagrams between edge and connector: one
// flow frame per QUIC DATAGRAM frame (RFC 9221), or per length-prefixed record
// on a stream where the transport has no datagrams. A pure codec in the
// manner of core/protocol/frame_decoder: decode() reads one whole frame from
// a span, never throws, never reads past it, and refuses anything not exactly
// as encode_*() writes it (minimal varints, no trailing bytes), so a decoded
// frame encodes back to the same bytes.
//
// Every frame begins with a type byte and the flow id, the EDGE's id for the
// flow (the connector keeps it as the flow's peer_flow), as a QUIC variable-
// length integer (RFC 9000 §16: 2-bit length prefix, 1/2/4/8 bytes, values
// 1 .. 2^62-1; the shortest form only).
//
//   request, edge -> connector (type 0x01): the client's address on every
//   datagram, so the connector can begin a flow from any one of them (the
//   first may be lost) and a PROXY v2 header can go on any of them.
//
//     0        1             1+n      2+n                  2+n+a    4+n+a
//     +--------+-------------+--------+--------------------+--------+---------...
//     |  0x01  | flow id (n) | family | address (a)        |  port  | payload
//     |        | varint      | 4 | 6  | 4 or 16 B, network | 2 B BE | the rest
//     +--------+-------------+--------+--------------------+--------+---------...
//
//   response, connector -> edge (type 0x02):
//
//     +--------+-------------+---------...
//     |  0x02  | flow id (n) | payload (the rest)
//     +--------+-------------+---------...
//
//   close, either way (type 0x03): the sender ended the flow; the receiver
//   ends its half (peer_closed). reason: to_wire(CloseReason) (flow_reasons.hpp),
//   1..255 (0 is refused; a code this build does not know is kept as is).
//
//     +--------+-------------+--------+
//     |  0x03  | flow id (n) | reason |
//     +--------+-------------+--------+
//
// Growth: types 0x00 and 0x04..0xFF are unassigned; a receiver drops a frame
// of a type it does not know (unknown_type) and keeps the tunnel. A change to
// an existing layout takes a new type, never a reinterpretation.

#include "core/udp/flow_key.hpp"

#include <boost/asio/ip/udp.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

namespace warren::core::udp {

enum class FlowFrameType : std::uint8_t { request = 0x01, response = 0x02, close = 0x03 };

/// The largest payload a frame carries: the largest UDP payload over IPv4
/// (65535 - 20 B IPv4 header - 8 B UDP header, RFC 768/791).
inline constexpr std::size_t max_flow_payload = 65507;
/// The largest flow id a varint holds (RFC 9000 §16).
inline constexpr FlowId max_wire_flow_id = (FlowId{1} << 62) - 1;

/// A decoded frame's payload is a view into the decoded bytes: valid while
/// they are.
struct RequestFrame {
  FlowId flow = 0;
  boost::asio::ip::udp::endpoint client;
  std::span<const std::byte> payload;
};
struct ResponseFrame {
  FlowId flow = 0;
  std::span<const std::byte> payload;
};
struct CloseFrame {
  FlowId flow = 0;
  std::uint8_t reason = 0;  ///< close_reason_from_wire() reads it
};
using FlowFrame = std::variant<RequestFrame, ResponseFrame, CloseFrame>;

enum class FlowFrameError : std::uint8_t {
  none,
  empty,              ///< no bytes at all
  unknown_type,       ///< a type byte this build does not know
  truncated,          ///< ends inside the header
  non_minimal_varint, ///< the flow id is not in its shortest form
  zero_flow_id,       ///< flow id 0 (never a flow)
  bad_family,         ///< request: family byte not 4 or 6
  zero_port,          ///< request: client port 0 (no UDP client sends from it)
  payload_too_large,  ///< more than max_flow_payload bytes
  zero_reason,        ///< close: reason code 0
  trailing_bytes,     ///< close: bytes after the reason
};
/// "none", "empty", "unknown_type", ... (the enumerator's name).
std::string_view name(FlowFrameError error) noexcept;

struct FlowFrameDecode {
  std::optional<FlowFrame> frame;  ///< set when error is none
  FlowFrameError error = FlowFrameError::none;
};

/// Decodes one whole frame (one datagram, one record).
FlowFrameDecode decode_flow_frame(std::span<const std::byte> bytes) noexcept;

/// Encoders append one frame to `out` and return true; they append nothing
/// and return false for a frame decode would refuse (flow id 0 or above
/// max_wire_flow_id, payload above max_flow_payload, client port 0, reason 0).
bool encode_request(FlowId flow, const boost::asio::ip::udp::endpoint& client, std::span<const std::byte> payload,
                    std::vector<std::byte>& out);
bool encode_response(FlowId flow, std::span<const std::byte> payload, std::vector<std::byte>& out);
bool encode_close(FlowId flow, std::uint8_t reason, std::vector<std::byte>& out);
/// Any frame, by its type (round-trip checks, tests).
bool encode_flow_frame(const FlowFrame& frame, std::vector<std::byte>& out);

/// Header bytes before the payload, so a shell can tell the largest payload
/// that fits a transport's max_datagram_size. 0 for a flow id out of range.
std::size_t request_overhead(FlowId flow, const boost::asio::ip::udp::endpoint& client) noexcept;
std::size_t response_overhead(FlowId flow) noexcept;

}  // namespace warren::core::udp

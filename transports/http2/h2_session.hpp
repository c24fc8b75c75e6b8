#pragma once
// What both sides of the HTTP/2 session agree on beyond RFC 9113: the
// request that opens a stream and the GOAWAY code for an idle timeout.

#include <warren/sdk/error.hpp>

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <string_view>

namespace warren::http2 {

/// "Send no GOAWAY" for Http2Connection::fail.
inline constexpr std::uint32_t no_goaway = 0xffffffff;
/// GOAWAY code for "the idle timeout ended the connection" (an extension
/// code: RFC 9113 §7 lets peers define codes; others read it as INTERNAL_ERROR).
inline constexpr std::uint32_t idle_timeout_code = 0x77720001;

/// Header that says what a CONNECT request is for: a stream the edge opens
/// (`open`) or one it keeps ready for the connector to claim (`reverse`).
inline constexpr std::string_view stream_kind_header = "warren-stream";
inline constexpr std::string_view kind_open = "open";
inline constexpr std::string_view kind_reverse = "reverse";
inline constexpr std::string_view authority = "warren";

/// The reason a GOAWAY with `code` gives the side that receives it.
inline sdk::error_code reason_of_goaway(std::uint32_t code) {
  switch (code) {
    case idle_timeout_code: return sdk::make_error_code(sdk::errc::idle_timeout);
    case NGHTTP2_PROTOCOL_ERROR:
    case NGHTTP2_FLOW_CONTROL_ERROR:
    case NGHTTP2_FRAME_SIZE_ERROR:
    case NGHTTP2_COMPRESSION_ERROR: return sdk::make_error_code(sdk::errc::protocol_error);
    default: return sdk::make_error_code(sdk::errc::peer_closed);
  }
}

}  // namespace warren::http2

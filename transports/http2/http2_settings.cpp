#include "http2_settings.hpp"

#include <string>

namespace warren::http2 {

const sdk::ConfigSchema<Http2Settings>& http2_settings_schema() {
  constexpr std::int64_t KiB = 1024, MiB = 1024 * KiB;
  constexpr std::int64_t h2_max_window = (std::int64_t{1} << 31) - 1;  // RFC 9113 §6.9.1
  using S = Http2Settings;
  static const auto schema =
      sdk::ConfigSchema<S>("HTTP/2 over TLS on TCP: flow-control windows and stream limits (both sides)")
          .integer("stream_window", &S::stream_window,
                   "most bytes a peer may send on one stream ahead of the reader (HTTP/2 stream window)",
                   {.min = 16 * KiB, .max = 256 * MiB})
          .integer("connection_window", &S::connection_window,
                   "bytes in flight on all streams together, plus bytes on streams not yet accepted",
                   {.min = 64 * KiB, .max = h2_max_window})
          .integer("max_streams", &S::max_streams, "streams a peer may have open at once", {.min = 1, .max = 1 << 20})
          .integer("reverse_streams", &S::reverse_streams,
                   "streams an edge keeps open ahead for the connector to claim when it opens a stream",
                   {.min = 1, .max = 256})
          .duration("tcp_keepalive", &S::tcp_keepalive,
                    "TCP keepalive: idle time before the kernel probes a silent peer (0 turns it off)",
                    {.min = sdk::Duration::zero(), .max = std::chrono::hours(2)})
          .check([](const S& s, const sdk::CheckContext& at) {
            if (s.connection_window < s.stream_window)
              at.error("connection_window", "'connection_window' (" + std::to_string(s.connection_window) +
                                                ") must be at least 'stream_window' (" +
                                                std::to_string(s.stream_window) + ")");
          });
  return schema;
}

}  // namespace warren::http2

#pragma once
// The plugin's keys, declared once in http2_settings_schema(). The same
// table serves an edge's [[listen]] entry and a connector's [[transport]]
// entry. Memory a peer can make one connection hold in received, unread
// bytes: connection_window (bytes on streams not accepted yet) + stream_window
// x streams the application holds.

#include <warren/sdk/config_schema.hpp>
#include <warren/sdk/time.hpp>

#include <chrono>
#include <cstdint>

namespace warren::http2 {

struct Http2Settings {
  /// Most bytes the peer may send on one stream ahead of its reader
  /// (SETTINGS_INITIAL_WINDOW_SIZE); WINDOW_UPDATE goes back only as the
  /// application reads.
  std::uint32_t stream_window = 1 << 20;
  /// The connection's window: bytes in flight on all streams, plus bytes on
  /// streams the application has not accepted yet.
  std::uint32_t connection_window = 16 << 20;
  /// Streams the peer may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS).
  std::uint32_t max_streams = 1024;
  /// Streams the edge keeps open ahead for the connector to claim (the
  /// connector's side opens streams through them: HTTP/2 lets only the
  /// client, here the edge, open streams).
  std::uint32_t reverse_streams = 8;
  /// TCP keepalive: idle time before the kernel probes a silent peer; zero
  /// turns it off. HTTP/2 PINGs (the connector's keepalive) come first.
  sdk::Duration tcp_keepalive = std::chrono::seconds(15);
};

const sdk::ConfigSchema<Http2Settings>& http2_settings_schema();

}  // namespace warren::http2

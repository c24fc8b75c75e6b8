#pragma once
// The plugin's flow-control keys, declared once in quic_settings_schema().
// The same table serves an edge's [[listen]] entry and a connector's
// [[transport]] entry; handshake_settings.hpp declares the edge's defences
// in the same table, and plugin.cpp joins the two schemas.
//
// Memory a peer can make one connection hold in received, unread bytes:
//   connection_window                 (bytes in flight, and in peer streams
//                                      the application has not accepted)
// + stream_window x streams held      (each stream the application holds
//                                      buffers at most its own window)
// Peer-opened streams are at most max_streams; streams we open are bounded
// by the peer's max_streams and by the application (the edge's
// max_streams_per_tunnel). Defaults: 16 MiB + 1 MiB x 1024 = 1.02 GiB at
// worst, reached only by streams that were read fast (so their windows grew)
// and then stalled; a stream never read holds initial_stream_window (64 KiB).

#include <warren/sdk/config_schema.hpp>

#include <cstdint>

namespace warren::quic {

struct QuicSettings {
  /// Most bytes the peer may send on one stream ahead of the reader: the
  /// window a stream grows to (ngtcp2 auto-tuning) while its reader keeps up.
  std::uint64_t stream_window = 1 << 20;
  /// The window every stream starts with (≤ stream_window); a stream that is
  /// never read holds no more than this.
  std::uint64_t initial_stream_window = 64 << 10;
  /// Bytes in flight on all streams together, plus bytes on peer streams the
  /// application has not accepted yet. Bytes on streams the application holds
  /// are bounded by their stream windows and are not charged here, so
  /// streams nobody reads cannot use it up.
  std::uint64_t connection_window = 16 << 20;
  /// Streams the peer may have open at once.
  std::uint64_t max_streams = 1024;
};

/// The flow-control keys: types, ranges, docs, and the rules between them.
/// Reading leaves initial_stream_window as written (or its default); use
/// effective() for the window a stream really starts with.
const sdk::ConfigSchema<QuicSettings>& quic_settings_schema();

/// `settings` with initial_stream_window at most stream_window: a default
/// start window shrinks to a smaller stream_window the user chose (one the
/// user wrote larger is an error of the schema's check).
QuicSettings effective(QuicSettings settings);

}  // namespace warren::quic

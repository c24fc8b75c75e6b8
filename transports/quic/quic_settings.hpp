#pragma once
// The plugin's own TOML keys, read once by the factory. The same table
// serves an edge's [[listen]] entry and a connector's [[transport]] entry.

#include <warren/sdk/config.hpp>

#include <cstdint>
#include <optional>

namespace warren::quic {

struct QuicSettings {
  /// Bytes the peer may send on one stream before the application reads.
  std::uint64_t stream_window = 1 << 20;
  /// Bytes the peer may send on all streams together before the application reads.
  std::uint64_t connection_window = 16 << 20;
  /// Streams the peer may have open at once.
  std::uint64_t max_streams = 1024;
};

/// Reads and validates the table; nullopt after adding diagnostics.
std::optional<QuicSettings> read_settings(const sdk::ConfigTable& table, sdk::Diagnostics& diagnostics);

}  // namespace warren::quic

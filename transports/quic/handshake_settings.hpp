#pragma once
// The plugin's keys for the edge's defences before authentication (Retry,
// handshake caps). Read from the same table as quic_settings.hpp; kept apart
// so flow control and handshake defences can change independently.

#include "handshake_guard.hpp"

#include <warren/sdk/config.hpp>

#include <optional>

namespace warren::quic {

/// Reads and validates the handshake keys; nullopt after adding diagnostics.
/// Other keys of the table are left to read_settings().
std::optional<HandshakeLimits> read_handshake_settings(const sdk::ConfigTable& table, sdk::Diagnostics& diagnostics);

/// `table` without the keys read_handshake_settings() owns, for the reader
/// of the remaining keys (which reports anything it does not know).
sdk::ConfigTable without_handshake_keys(const sdk::ConfigTable& table);

}  // namespace warren::quic

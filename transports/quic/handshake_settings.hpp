#pragma once
// The plugin's keys for the edge's defences before authentication (Retry,
// handshake caps), declared in handshake_settings_schema(). Read from the
// same table as quic_settings.hpp (plugin.cpp joins the two schemas); kept
// apart so flow control and handshake defences can change independently.

#include "handshake_guard.hpp"

#include <warren/sdk/config_schema.hpp>

namespace warren::quic {

/// The handshake keys: the Retry mode, its thresholds and the caps.
const sdk::ConfigSchema<HandshakeLimits>& handshake_settings_schema();

}  // namespace warren::quic

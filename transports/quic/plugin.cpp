// Registration of the QUIC transport: reads the plugin's table, makes the
// transport. The work lives in quic_transport.cpp and below.
//
// Keys (all optional):
//   stream_window     = 1048576    bytes a peer may send on one stream ahead of the reader
//   connection_window = 16777216   the same for all streams of a connection together
//   max_streams       = 1024       streams a peer may have open at once
// Edge only, defences before authentication (handshake_settings.cpp):
//   retry = "auto"                  when new clients must prove their address first: "auto" | "always" | "never"
//   retry_above_rate = 1000         new tokenless Initials/s above which "auto" sends Retry
//   retry_above_pending = 64        unvalidated handshakes in progress at which "auto" sends Retry
//   max_handshakes = 1024           handshakes in progress, all sources
//   max_handshakes_per_source = 8   handshakes in progress from one IPv4 address or IPv6 /64

#include "handshake_settings.hpp"
#include "quic_settings.hpp"
#include "quic_transport.hpp"

#include <warren/sdk/plugin.hpp>

#include <memory>

namespace warren::quic {
namespace {

std::unique_ptr<sdk::Transport> make_transport(const sdk::ConfigTable& table, sdk::PluginContext& context,
                                               sdk::Diagnostics& diagnostics) {
  auto handshake = read_handshake_settings(table, diagnostics);
  auto settings = read_settings(without_handshake_keys(table), diagnostics);
  if (!settings || !handshake) return nullptr;
  return std::make_unique<QuicTransport>(*settings, *handshake, context);
}

}  // namespace
}  // namespace warren::quic

WARREN_PLUGIN("quic", "0.1.0", "QUIC transport (ngtcp2 + GnuTLS, TLS 1.3, ALPN warren/1)", warren::quic::make_transport)

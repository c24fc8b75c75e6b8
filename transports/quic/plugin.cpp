// Registration of the QUIC transport: reads the plugin's table, makes the
// transport. The work lives in quic_transport.cpp and below.
// Its keys, all optional, are read in quic_settings.cpp (flow control) and
// handshake_settings.cpp (edge-only defences before authentication); the
// table in README.md lists them.

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

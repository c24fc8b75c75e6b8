// Registration of the QUIC transport: reads the plugin's table, makes the
// transport. The work lives in quic_transport.cpp and below.
//
// Keys (all optional):
//   stream_window     = 1048576    bytes a peer may send on one stream ahead of the reader
//   connection_window = 16777216   the same for all streams of a connection together
//   max_streams       = 1024       streams a peer may have open at once

#include "quic_settings.hpp"
#include "quic_transport.hpp"

#include <warren/sdk/plugin.hpp>

#include <memory>

namespace warren::quic {
namespace {

std::unique_ptr<sdk::Transport> make_transport(const sdk::ConfigTable& table, sdk::PluginContext& context,
                                               sdk::Diagnostics& diagnostics) {
  auto settings = read_settings(table, diagnostics);
  if (!settings) return nullptr;
  return std::make_unique<QuicTransport>(*settings, context);
}

}  // namespace
}  // namespace warren::quic

WARREN_PLUGIN("quic", "0.1.0", "QUIC transport (ngtcp2 + GnuTLS, TLS 1.3, ALPN warren/1)", warren::quic::make_transport)

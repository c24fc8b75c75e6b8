// Registration of the QUIC transport: its keys, the transport. The work
// lives in quic_transport.cpp and below. The keys, all optional, are
// declared in quic_settings.cpp (flow control) and handshake_settings.cpp
// (edge-only defences before authentication); one table holds both.

#include "handshake_settings.hpp"
#include "quic_settings.hpp"
#include "quic_transport.hpp"

#include <warren/sdk/plugin.hpp>

#include <memory>

namespace warren::quic {
namespace {

struct QuicPluginConfig {
  QuicSettings flow;
  HandshakeLimits handshake;
};

const sdk::ConfigSchema<QuicPluginConfig>& quic_schema() {
  static const auto schema =
      sdk::ConfigSchema<QuicPluginConfig>(
          "QUIC on UDP: flow-control windows (both sides) and, on an edge, defences before authentication")
          .include(quic_settings_schema(), &QuicPluginConfig::flow)
          .include(handshake_settings_schema(), &QuicPluginConfig::handshake);
  return schema;
}

std::unique_ptr<sdk::Transport> make_transport(const QuicPluginConfig& config, sdk::PluginContext& context) {
  return std::make_unique<QuicTransport>(effective(config.flow), config.handshake, context);
}

}  // namespace
}  // namespace warren::quic

WARREN_TYPED_PLUGIN("quic", "0.1.0", "QUIC transport (ngtcp2 + GnuTLS, TLS 1.3, ALPN warren/1)",
                    warren::quic::quic_schema, warren::quic::make_transport)

// Registration of the HTTP/2 transport: its keys, the transport. The work
// lives in http2_transport.cpp and below.

#include "http2_settings.hpp"
#include "http2_transport.hpp"

#include <warren/sdk/plugin.hpp>

#include <memory>

namespace warren::http2 {
namespace {

std::unique_ptr<sdk::Transport> make_transport(const Http2Settings& settings, sdk::PluginContext& context) {
  return std::make_unique<Http2Transport>(settings, context);
}

}  // namespace
}  // namespace warren::http2

WARREN_TYPED_PLUGIN("http2", "0.1.0", "HTTP/2 transport over TLS 1.3 on TCP (nghttp2 + GnuTLS, ALPN warren-h2/1)",
                    warren::http2::http2_settings_schema, warren::http2::make_transport)

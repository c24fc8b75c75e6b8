#pragma once
// The plugin object: dials (the connector's side) and listens (the edge's).
// One TCP connection per dial.

#include "http2_connection.hpp"
#include "http2_settings.hpp"

#include <warren/sdk/pending_dials.hpp>
#include <warren/sdk/plugin_object.hpp>
#include <warren/sdk/transport.hpp>

#include <memory>

namespace warren::http2 {

class Http2Transport final : public sdk::Transport {
 public:
  Http2Transport(const Http2Settings& settings, sdk::PluginContext& context);
  /// Dials still in their handshake fail with operation_aborted; connections
  /// already established live on.
  ~Http2Transport() override;

  sdk::ListenerPtr listen(const sdk::ListenOptions& options, sdk::error_code& ec) override;

 private:
  void async_dial_impl(sdk::DialOptions options, sdk::ConnectionHandler handler) override;

  boost::asio::any_io_executor executor_;
  sdk::Logger& logger_;
  Http2Settings settings_;
  std::shared_ptr<sdk::PendingDials<Http2Connection>> dials_;
  bool warned_insecure_ = false;  ///< the insecure warning is said once
};

}  // namespace warren::http2

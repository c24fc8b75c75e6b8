#pragma once
// The plugin object: one QUIC endpoint. Every connection it dials shares one
// UDP socket per address family, opened on the first dial.

#include "handshake_guard.hpp"
#include "quic_connection.hpp"
#include "quic_settings.hpp"

#include <warren/sdk/pending_dials.hpp>
#include <warren/sdk/plugin_object.hpp>
#include <warren/sdk/transport.hpp>

#include <memory>

namespace warren::quic {

class QuicTransport final : public sdk::Transport {
 public:
  /// `handshake_limits` apply to listen(); dialing ignores them.
  QuicTransport(const QuicSettings& settings, const HandshakeLimits& handshake_limits, sdk::PluginContext& context);
  /// Dials still in their handshake fail with operation_aborted; connections
  /// already established live on.
  ~QuicTransport() override;

  sdk::ListenerPtr listen(const sdk::ListenOptions& options, sdk::error_code& ec) override;

 private:
  void async_dial_impl(sdk::DialOptions options, sdk::ConnectionHandler handler) override;
  std::shared_ptr<UdpEndpoint> client_endpoint(bool v6, sdk::error_code& ec);

  boost::asio::any_io_executor executor_;
  sdk::Logger& logger_;
  QuicSettings settings_;
  HandshakeLimits handshake_limits_;
  std::shared_ptr<UdpEndpoint> v4_;
  std::shared_ptr<UdpEndpoint> v6_;
  std::shared_ptr<sdk::PendingDials<QuicConnection>> dials_;
  bool warned_insecure_ = false;  ///< the insecure warning is said once
};

}  // namespace warren::quic

#pragma once
// The edge side: accepts QUIC connections on one UDP socket, with the
// defences before authentication of handshake_guard.hpp (Retry, caps) and
// a counter for each in stats().

#include "handshake_guard.hpp"
#include "quic_connection.hpp"

#include <warren/sdk/transport.hpp>

#include <memory>

namespace warren::quic {

class AcceptQueue;

class QuicListener final : public sdk::Listener {
 public:
  /// Null with `why` set if the listener's Retry secret cannot be drawn.
  static std::unique_ptr<QuicListener> create(std::shared_ptr<UdpEndpoint> endpoint,
                                              std::shared_ptr<ServerCredentials> credentials,
                                              StatelessReset::Ptr reset, const ConnectionLimits& limits, const HandshakeLimits& handshake_limits,
                                              sdk::Logger& logger, std::string& why);
  /// Same as close(); accepted connections live on.
  ~QuicListener() override;

  std::uint16_t local_port() const override { return port_; }
  void close() override;
  /// New handshakes get the new pair; each connection keeps the credentials it began with.
  bool replace_certificate(const std::string& cert_pem, const std::string& key_pem, std::string& why) override;
  sdk::ListenerStats stats() const override;

 private:
  QuicListener(std::shared_ptr<AcceptQueue> queue, std::uint16_t port) : queue_(std::move(queue)), port_(port) {}
  void async_accept_impl(sdk::ConnectionHandler handler) override;

  std::shared_ptr<AcceptQueue> queue_;
  std::uint16_t port_;
};

}  // namespace warren::quic

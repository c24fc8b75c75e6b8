#pragma once
// The edge side: accepts QUIC connections on one UDP socket.

#include "quic_connection.hpp"

#include <warren/sdk/transport.hpp>

#include <memory>

namespace warren::quic {

class AcceptQueue;

class QuicListener final : public sdk::Listener {
 public:
  QuicListener(std::shared_ptr<UdpEndpoint> endpoint, std::shared_ptr<ServerCredentials> credentials,
               const ConnectionLimits& limits, sdk::Logger& logger);
  /// Same as close(); accepted connections live on.
  ~QuicListener() override;

  std::uint16_t local_port() const override { return port_; }
  void close() override;

 private:
  void async_accept_impl(sdk::ConnectionHandler handler) override;

  std::shared_ptr<AcceptQueue> queue_;
  std::uint16_t port_;
};

}  // namespace warren::quic

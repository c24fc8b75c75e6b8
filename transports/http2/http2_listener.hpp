#pragma once
// The edge's side: accepts TCP connections, runs each one's TLS handshake
// (bounded by the handshake timeout) and hands out those that completed.

#include "http2_connection.hpp"

#include <warren/sdk/tls_verification.hpp>
#include <warren/sdk/transport.hpp>

#include <deque>
#include <memory>
#include <unordered_map>

namespace warren::http2 {

class Http2Listener final : public sdk::Listener {
 public:
  /// Null with `ec` set (errc::port_in_use, or the socket's error) if the
  /// address cannot be bound.
  static std::unique_ptr<Http2Listener> open(boost::asio::any_io_executor executor, const tcp::endpoint& where,
                                             std::shared_ptr<sdk::tls::Credentials> credentials,
                                             const ConnectionLimits& limits, sdk::Logger& logger, sdk::error_code& ec);
  /// Same as close(); accepted connections live on.
  ~Http2Listener() override;

  std::uint16_t local_port() const override { return port_; }
  void close() override;
  /// New handshakes get the new pair; each connection keeps the credentials it began with.
  bool replace_certificate(const std::string& cert_pem, const std::string& key_pem, std::string& why) override;
  sdk::ListenerStats stats() const override;

  struct State;  ///< shared with the acceptor's and handshakes' callbacks

 private:
  Http2Listener(std::shared_ptr<State> state, std::uint16_t port) : state_(std::move(state)), port_(port) {}
  void async_accept_impl(sdk::ConnectionHandler handler) override;

  std::shared_ptr<State> state_;
  std::uint16_t port_;
};

}  // namespace warren::http2

#pragma once
// The `tcp` backend: each tunnelled stream becomes a TCP connection to one
// configured address. Loopback only unless allow_remote = true, so a tunnel
// never turns into an open proxy into the connector's network by accident.

#include <warren/sdk/backend.hpp>
#include <warren/sdk/config.hpp>
#include <warren/sdk/endpoint.hpp>
#include <warren/sdk/time.hpp>

#include <boost/asio/ip/address.hpp>

#include <optional>

namespace warren::tcp {

struct TcpBackendConfig {
  sdk::Endpoint address;
  bool allow_remote = false;
  sdk::Duration connect_timeout = std::chrono::seconds(5);
  bool nodelay = true;
};

std::optional<TcpBackendConfig> read_tcp_backend_config(const sdk::ConfigTable& table, sdk::Diagnostics& diagnostics);

/// Loopback: 127.0.0.0/8, ::1, and IPv4-mapped loopback.
bool is_loopback(const boost::asio::ip::address& address);

class TcpBackend final : public sdk::Backend {
 public:
  TcpBackend(TcpBackendConfig config, sdk::PluginContext& context) : config_(std::move(config)), context_(context) {}

 private:
  void async_connect_impl(sdk::StreamInfo info,
                          boost::asio::any_completion_handler<void(sdk::error_code, sdk::ByteStreamPtr)> handler)
      override;

  TcpBackendConfig config_;
  sdk::PluginContext& context_;
};

}  // namespace warren::tcp

#pragma once
// The `tcp` backend: each tunnelled stream becomes a TCP connection to one
// configured address. Loopback only unless allow_remote = true, so a tunnel
// never turns into an open proxy into the connector's network by accident.

#include "plugins/proxy_header/proxy_header_write.hpp"

#include <warren/sdk/backend.hpp>
#include <warren/sdk/config_schema.hpp>
#include <warren/sdk/endpoint.hpp>
#include <warren/sdk/loopback.hpp>
#include <warren/sdk/time.hpp>

#include <boost/asio/ip/address.hpp>

namespace warren::tcp {

using sdk::is_loopback;

using proxy_header::ProxyProtocol;

struct TcpBackendConfig {
  sdk::Endpoint address;  ///< required: no default
  bool allow_remote = false;
  sdk::Duration connect_timeout = std::chrono::seconds(5);
  bool nodelay = true;
  ProxyProtocol proxy_protocol = ProxyProtocol::off;
};

/// The backend's keys; its check refuses a literal address that is not
/// loopback unless allow_remote is set.
const sdk::ConfigSchema<TcpBackendConfig>& tcp_backend_schema();

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

#pragma once
// The `udp` backend: each flow of a UDP tunnel (one public client address
// and port) becomes a connected UDP socket to one configured address, so the
// service sees one source port per public client and its replies find their
// way back by the socket they arrive on. Loopback only unless allow_remote =
// true, as the tcp backend. It carries datagrams only: a stream (a tcp
// tunnel) is refused with config_invalid.

#include "plugins/udp/open_failure_log.hpp"

#include <warren/sdk/backend.hpp>
#include <warren/sdk/config_schema.hpp>
#include <warren/sdk/endpoint.hpp>
#include <warren/sdk/loopback.hpp>

#include <boost/asio/ip/address.hpp>

#include <memory>

namespace warren::udp {

using sdk::is_loopback;

/// Whether a flow's datagrams start with a PROXY protocol header. v1 is
/// listed only to be refused with a reason: its text header names TCP only.
enum class ProxyProtocol { off, v1, v2 };
/// Which of a flow's datagrams carry the header.
enum class ProxyDatagrams { every, first };

struct UdpBackendConfig {
  sdk::Endpoint address;  ///< required: no default
  bool allow_remote = false;
  ProxyProtocol proxy_protocol = ProxyProtocol::off;
  /// "every" by default: a UDP service cannot tell a flow's first datagram
  /// (each is read alone), so PROXY-aware servers (dnsdist, PowerDNS
  /// Recursor) expect the header on each one.
  ProxyDatagrams proxy_protocol_datagrams = ProxyDatagrams::every;
};

/// The backend's keys; its check refuses a literal address that is not
/// loopback unless allow_remote is set, and proxy_protocol = "v1".
const sdk::ConfigSchema<UdpBackendConfig>& udp_backend_schema();

class UdpBackend final : public sdk::Backend {
 public:
  UdpBackend(UdpBackendConfig config, sdk::PluginContext& context) : config_(std::move(config)), context_(context) {}

  Carries carries() const override { return Carries::datagrams; }

 private:
  /// Always refuses (config_invalid, logged): a udp backend has no streams.
  void async_connect_impl(sdk::StreamInfo info,
                          boost::asio::any_completion_handler<void(sdk::error_code, sdk::ByteStreamPtr)> handler)
      override;
  /// Resolves the address when it is a name (checking loopback), opens and
  /// connects a UDP socket; fails with remote_not_allowed or backend_refused
  /// (sdk/error.hpp has no code of its own for "out of descriptors"; a
  /// warning says why, through failures_).
  /// With proxy_protocol = "v2" the flow's datagrams carry a header from
  /// info.client_address to info.listener (udp_proxy_header.hpp).
  void async_open_flow_impl(sdk::StreamInfo info, sdk::DatagramFlowHandler handler) override;

  UdpBackendConfig config_;
  sdk::PluginContext& context_;
  /// Shared with resolves in flight, which may complete after a reload let the backend go.
  std::shared_ptr<OpenFailureLog> failures_ = std::make_shared<OpenFailureLog>();
};

}  // namespace warren::udp

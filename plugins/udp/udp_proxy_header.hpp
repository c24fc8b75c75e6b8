#pragma once
// The PROXY protocol v2 header the udp backend puts before a flow's
// datagrams (HAProxy's proxy-protocol.txt section 2.2, transport DGRAM):
// source = the public client, destination = the tunnel's public address.
// Pure: no socket, no clock.

#include <warren/sdk/proxy_protocol.hpp>

#include <string_view>

namespace warren::udp {

struct UdpProxyHeader {
  sdk::proxy_protocol::HeaderBytes bytes;
  /// The listener was no IP literal of the client's family (a name such as
  /// "tunnel.example.com:20053", or IPv4 for an IPv6 client): the header's
  /// destination is then the unspecified address of the client's family
  /// (0.0.0.0 or ::) with the listener's port, so the client's address, the
  /// point of the header, still gets through.
  bool destination_unspecified = false;
  /// The client was no IP literal: the header is v2 UNSPEC (length 0),
  /// which receivers read as "use the datagram's real source".
  bool unknown = false;
};

/// The header for one flow from `client` (StreamInfo::client_address) to
/// `listener` (StreamInfo::listener), both "address:port".
UdpProxyHeader udp_proxy_header(std::string_view client, std::string_view listener);

}  // namespace warren::udp

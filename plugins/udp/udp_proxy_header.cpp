#include "plugins/udp/udp_proxy_header.hpp"

namespace warren::udp {

namespace pp = sdk::proxy_protocol;

UdpProxyHeader udp_proxy_header(std::string_view client, std::string_view listener) {
  UdpProxyHeader out;
  if (auto both = pp::read_addresses(client, listener)) {
    out.bytes = pp::write_v2(both, pp::SocketType::datagram);
    return out;
  }
  // Pair the client with an unspecified destination of its own family: read
  // it against "0.0.0.0:port" and, failing that, "[::]:port".
  auto endpoint = sdk::parse_endpoint(listener, nullptr, /*allow_port_zero=*/true);
  std::string port = std::to_string(endpoint ? endpoint->port : 0);
  for (std::string unspecified : {"0.0.0.0:" + port, "[::]:" + port}) {
    if (auto addresses = pp::read_addresses(client, unspecified)) {
      out.bytes = pp::write_v2(addresses, pp::SocketType::datagram);
      out.destination_unspecified = true;
      return out;
    }
  }
  out.bytes = pp::write_v2(std::nullopt, pp::SocketType::datagram);
  out.unknown = true;
  return out;
}

}  // namespace warren::udp

#include "plugins/proxy_header/proxy_header_write.hpp"

namespace warren::proxy_header {

std::vector<std::pair<std::string, ProxyProtocol>> choices() {
  return {{"off", ProxyProtocol::off}, {"v1", ProxyProtocol::v1}, {"v2", ProxyProtocol::v2}};
}

const std::string& doc() {
  static const std::string text =
      "start each backend connection with a PROXY protocol header (HAProxy's v1 text or v2 binary) carrying the "
      "public client's address and port; the service must expect it";
  return text;
}

sdk::proxy_protocol::HeaderBytes header_for(ProxyProtocol version, const sdk::StreamInfo& info, sdk::Logger& logger) {
  namespace pp = sdk::proxy_protocol;
  auto addresses = pp::read_addresses(info.client_address, info.listener);
  if (!addresses)
    logger.debug("PROXY header for " + info.client_address + " -> " + info.listener +
                 " says unknown: not two IP endpoints of one family");
  return version == ProxyProtocol::v1 ? pp::write_v1(addresses) : pp::write_v2(addresses, pp::SocketType::stream);
}

}  // namespace warren::proxy_header

#pragma once
// Discovery plugins: where the edges are (DNS SRV, a static list …).

#include <warren/sdk/error.hpp>
#include <warren/sdk/plugin_object.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace warren::sdk {

struct EdgeAddress {
  boost::asio::ip::address address;
  std::uint16_t port = 0;
  std::string host;    ///< the name it was found under, for TLS SNI; may be the address text
  std::string region;  ///< "" when discovery knows none; legs prefer distinct regions
  std::uint16_t priority = 0;  ///< RFC 2782: lower is preferred
  std::uint16_t weight = 0;    ///< RFC 2782: share among equal priorities

  /// "address:port", with brackets for IPv6.
  std::string to_string() const {
    std::string a = address.to_string();
    return (address.is_v6() ? "[" + a + "]" : a) + ":" + std::to_string(port);
  }
};

using ResolveHandler = boost::asio::any_completion_handler<void(error_code, std::vector<EdgeAddress>)>;

class BOOST_SYMBOL_VISIBLE Discovery : public PluginObject {
 public:
  /// Finds the current edge addresses, best first. Completes with
  /// errc::no_edges when there are none, errc::discovery_failed when it
  /// could not ask. Called again whenever the connector wants fresh addresses.
  template <typename Token>
  auto async_resolve(Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, std::vector<EdgeAddress>)>(
        [this](auto handler) { async_resolve_impl(std::move(handler)); }, token);
  }

 private:
  virtual void async_resolve_impl(ResolveHandler handler) = 0;
};

}  // namespace warren::sdk

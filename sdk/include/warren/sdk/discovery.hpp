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

/// Optional, beside Discovery: a discovery that can say why its last resolve
/// completed with an error derives from this too (multiple inheritance), and
/// the connector finds it with dynamic_cast. Its words go into the
/// connector's retry line and /status, so an operator sees which record,
/// which resolver and what went wrong without raising the log level. A
/// discovery without it still works: the error code's message stands in.
/// Kept out of Discovery's vtable so plugins built before it keep loading.
class BOOST_SYMBOL_VISIBLE DiscoveryFailureDetail {
 public:
  virtual ~DiscoveryFailureDetail() = default;
  /// Why the last completed resolve failed, e.g. "_warren._udp.example.com: no
  /// answer from resolver 10.0.0.53:53 (timeout)"; "" after a success or
  /// when the plugin cannot tell. Called on the plugin's executor, right
  /// after the failed resolve's completion ran.
  virtual std::string last_failure() const = 0;
};

}  // namespace warren::sdk

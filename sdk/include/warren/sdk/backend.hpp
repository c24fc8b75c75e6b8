#pragma once
// Backend plugins: where a tunnelled stream is delivered on the connector's
// side (a localhost TCP service, a unix socket …), or where a UDP tunnel's
// flows go (a datagram backend, ABI 1.4).

#include <warren/sdk/byte_stream.hpp>
#include <warren/sdk/datagram.hpp>
#include <warren/sdk/plugin_object.hpp>

#include <string>

namespace warren::sdk {

/// What the edge said about a public connection.
struct StreamInfo {
  std::string client_address;  ///< the public client's "address:port"
  std::string listener;        ///< the public listener it arrived on, "address:port"
};

class BOOST_SYMBOL_VISIBLE Backend : public PluginObject {
 public:
  enum class Carries { streams, datagrams };

  /// Opens a connection to the service for one tunnelled stream. A refusal
  /// (errc::backend_refused, errc::backend_timeout, errc::remote_not_allowed)
  /// resets that one stream only.
  template <typename Token>
  auto async_connect(StreamInfo info, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, ByteStreamPtr)>(
        [this](auto handler, StreamInfo i) { async_connect_impl(std::move(i), std::move(handler)); }, token,
        std::move(info));
  }

  /// Opens a flow to the service for one public UDP client (ABI 1.4; only on
  /// a backend whose carries() is datagrams). `info.client_address` is the
  /// client's "address:port", the flow's identity. A refusal fails that one
  /// flow only; core drops its datagrams and counts them.
  template <typename Token>
  auto async_open_flow(StreamInfo info, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, DatagramFlowPtr)>(
        [this](auto handler, StreamInfo i) { async_open_flow_impl(std::move(i), std::move(handler)); }, token,
        std::move(info));
  }

 private:
  virtual void async_connect_impl(StreamInfo info,
                                  boost::asio::any_completion_handler<void(error_code, ByteStreamPtr)> handler) = 0;
  /// A stream backend carries no flows, and core never calls this on one
  /// (carries() says so): the default drops the handler unrun.
  virtual void async_open_flow_impl(StreamInfo info, DatagramFlowHandler handler) {
    (void)info;
    (void)handler;
  }

 public:
  // Declared after async_connect_impl, the one virtual of ABI 1.3, so it
  // keeps the vtable slot a 1.3 plugin gave it (slots follow declaration
  // order; 1.4's additions go after it).
  /// What a backend carries (ABI 1.4): byte streams of a TCP tunnel (tcp,
  /// unix, group), or datagram flows of a UDP tunnel (udp). Core checks it
  /// against the tunnel's kind and calls only the matching async_* above.
  /// Core calls this only on plugins of ABI >= 1.4; one built for 1.3 or
  /// earlier has no such slot and carries streams (core/plugin/backend_abi_gate).
  virtual Carries carries() const { return Carries::streams; }
};

}  // namespace warren::sdk

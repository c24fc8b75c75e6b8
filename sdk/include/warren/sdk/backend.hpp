#pragma once
// Backend plugins: where a tunnelled stream is delivered on the connector's
// side (a localhost TCP service, a unix socket …).

#include <warren/sdk/byte_stream.hpp>
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
  /// Opens a connection to the service for one tunnelled stream. A refusal
  /// (errc::backend_refused, errc::backend_timeout, errc::remote_not_allowed)
  /// resets that one stream only.
  template <typename Token>
  auto async_connect(StreamInfo info, Token&& token) {
    return boost::asio::async_initiate<Token, void(error_code, ByteStreamPtr)>(
        [this](auto handler, StreamInfo i) { async_connect_impl(std::move(i), std::move(handler)); }, token,
        std::move(info));
  }

 private:
  virtual void async_connect_impl(StreamInfo info,
                                  boost::asio::any_completion_handler<void(error_code, ByteStreamPtr)> handler) = 0;
};

}  // namespace warren::sdk

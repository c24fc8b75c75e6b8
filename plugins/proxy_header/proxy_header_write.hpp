#pragma once
// The PROXY protocol header a stream backend writes first on each
// connection (tcp and unix backends): the `proxy_protocol` key they share,
// and the write itself. The header describes the public connection (client
// -> edge listener, from StreamInfo), not the backend socket; it goes out
// whole before the stream is handed to core, so no tunnelled byte can
// precede it. A small static library both plugins link (not the SDK: an SDK
// header change rebuilds every plugin and bumps the ABI).

#include <warren/sdk/backend.hpp>
#include <warren/sdk/log.hpp>
#include <warren/sdk/proxy_protocol.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/write.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace warren::proxy_header {

/// Whether each backend connection starts with a PROXY protocol header
/// carrying the public client's address (sdk/proxy_protocol.hpp).
enum class ProxyProtocol { off, v1, v2 };

/// The words of the `proxy_protocol` key and its doc line, for a schema's choice().
std::vector<std::pair<std::string, ProxyProtocol>> choices();
const std::string& doc();

/// The header for `info` in `version` (not off). Addresses that are not two
/// IP endpoints of one family give PROXY UNKNOWN / LOCAL, said at debug.
sdk::proxy_protocol::HeaderBytes header_for(ProxyProtocol version, const sdk::StreamInfo& info, sdk::Logger& logger);

/// Writes header_for(version, info) whole on `socket`, then calls `done`
/// once: with no error, or with errc::backend_refused when the service
/// closed first (logged at debug, naming `backend`). `owner` is the
/// caller's connect attempt, kept alive until the write completes: `socket`
/// is its member. The caller bounds the write with its own deadline (closing
/// the socket ends it) and ignores `done` once it has given up.
template <typename Socket>
void write(Socket& socket, ProxyProtocol version, const sdk::StreamInfo& info, std::string backend, sdk::Logger& logger,
           std::shared_ptr<void> owner, boost::asio::any_completion_handler<void(sdk::error_code)> done) {
  auto header = std::make_shared<sdk::proxy_protocol::HeaderBytes>(header_for(version, info, logger));
  auto bytes = boost::asio::buffer(header->data(), header->size());
  boost::asio::async_write(
      socket, bytes,
      [header, owner = std::move(owner), backend = std::move(backend), &logger, d = std::move(done)](
          sdk::error_code ec, std::size_t) mutable {
        if (ec) {
          logger.debug("backend " + backend + " closed before the PROXY header was written: " + ec.message());
          return std::move(d)(sdk::make_error_code(sdk::errc::backend_refused));
        }
        std::move(d)(sdk::error_code{});
      });
}

}  // namespace warren::proxy_header

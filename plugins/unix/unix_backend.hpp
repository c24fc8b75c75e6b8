#pragma once
// The `unix` backend: each tunnelled stream becomes a connection to one
// Unix-domain stream socket, named by a filesystem path or, on Linux, by an
// abstract name written "@name" (unix(7)). Services that listen only on a
// socket file (php-fpm, gunicorn, a Docker or systemd socket) need no TCP
// port of their own.
//
// The namespace is not `unix`: GCC predefines that word as a macro.

#include "plugins/proxy_header/proxy_header_write.hpp"
#include "plugins/unix/refusal_log.hpp"

#include <warren/sdk/backend.hpp>
#include <warren/sdk/config_schema.hpp>
#include <warren/sdk/time.hpp>

#include <boost/asio/local/stream_protocol.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace warren::unix_socket {

/// sun_path holds 108 bytes (unix(7)); a path needs its terminating NUL, and
/// Asio keeps the same bound for an abstract name (its leading NUL counted),
/// so the text written in the config is at most 107 bytes either way.
inline constexpr std::size_t max_path_bytes = 107;

using proxy_header::ProxyProtocol;

struct UnixBackendConfig {
  std::string path;  ///< required: an absolute path, or "@name" (abstract)
  sdk::Duration connect_timeout = std::chrono::seconds(5);
  ProxyProtocol proxy_protocol = ProxyProtocol::off;
};

/// The backend's keys; its check refuses a path that cannot name a socket.
const sdk::ConfigSchema<UnixBackendConfig>& unix_backend_schema();

/// Why `path` cannot name a Unix socket (empty, relative, too long, a NUL
/// inside, "@" alone), as a sentence for the config's diagnostics; nullopt
/// when it can. Pure.
std::optional<std::string> path_problem(std::string_view path);

/// The socket address for a path that path_problem() accepts: "@name"
/// becomes the abstract address "\0name" (no trailing NUL, as socat and
/// systemd write it). Throws boost::system::system_error (name_too_long)
/// for a path past max_path_bytes.
boost::asio::local::stream_protocol::endpoint endpoint_for(std::string_view path);

class UnixBackend final : public sdk::Backend {
 public:
  UnixBackend(UnixBackendConfig config, sdk::PluginContext& context);

 private:
  /// Completes with a connected stream, or with errc::backend_refused (no
  /// such socket, nobody listening, permission denied) or
  /// errc::backend_timeout (the listener's backlog stayed full, or the
  /// PROXY header could not be written, until connect_timeout). With
  /// proxy_protocol, the header is written whole before the stream is
  /// handed over. Always posted, never inline.
  void async_connect_impl(sdk::StreamInfo info,
                          boost::asio::any_completion_handler<void(sdk::error_code, sdk::ByteStreamPtr)> handler)
      override;

  UnixBackendConfig config_;
  boost::asio::local::stream_protocol::endpoint endpoint_;
  sdk::PluginContext& context_;
  std::shared_ptr<RefusalLog> refusals_;  ///< why connects are refused, rate-limited; attempts share it
};

}  // namespace warren::unix_socket

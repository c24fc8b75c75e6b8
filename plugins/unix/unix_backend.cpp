#include "plugins/unix/unix_backend.hpp"

#include <warren/sdk/socket_stream.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <sys/socket.h>

namespace warren::unix_socket {

namespace asio = boost::asio;
using asio::local::stream_protocol;

std::optional<std::string> path_problem(std::string_view path) {
  if (path.empty()) return "the socket path is empty; write an absolute path, or @name for an abstract socket";
  if (path.find('\0') != std::string_view::npos) return "the socket path contains a NUL byte";
  if (path == "@") return "an abstract socket name needs at least one character after '@'";
  if (path.front() != '@' && path.front() != '/')
    return "the socket path \"" + std::string(path) +
           "\" is relative; write it absolute (the connector's working directory is not the config's), or @name "
           "for an abstract socket";
  if (path.size() > max_path_bytes)
    return "the socket path is " + std::to_string(path.size()) + " bytes long; a Unix socket address holds at most " +
           std::to_string(max_path_bytes) + " (sun_path, unix(7))";
  return std::nullopt;
}

stream_protocol::endpoint endpoint_for(std::string_view path) {
  if (!path.empty() && path.front() == '@') {
    std::string abstract(path);
    abstract.front() = '\0';
    return stream_protocol::endpoint(abstract);
  }
  return stream_protocol::endpoint(path);
}

const sdk::ConfigSchema<UnixBackendConfig>& unix_backend_schema() {
  using namespace std::chrono_literals;
  using C = UnixBackendConfig;
  static const auto schema =
      sdk::ConfigSchema<C>("where the connector delivers each tunnelled stream: one Unix-domain stream socket")
          .string("path", &C::path,
                  "the service's socket: an absolute path, or @name for a Linux abstract socket (at most 107 bytes)")
          .required()
          .duration("connect_timeout", &C::connect_timeout,
                    "deadline for connecting to the service (waiting while its listen backlog is full)",
                    {.min = 1ms, .max = 5min})
          .choice("proxy_protocol", &C::proxy_protocol, proxy_header::choices(), proxy_header::doc())
          .check([](const C& c, const sdk::CheckContext& at) {
            if (auto why = path_problem(c.path)) at.error("path", *why);
          });
  return schema;
}

namespace {

/// One connect, retried while the listener's backlog is full, until the
/// deadline. A Unix-domain connect on Linux never goes "in progress": it
/// succeeds or fails at once, and with a full backlog a non-blocking socket
/// gets EAGAIN with nothing to wait on (no readiness event tells when the
/// backlog has room), so the attempt retries on a short, growing delay.
/// Asio's async_connect would take that EAGAIN for a pending connect and
/// report success on an unconnected socket.
struct ConnectAttempt : std::enable_shared_from_this<ConnectAttempt> {
  using Handler = asio::any_completion_handler<void(sdk::error_code, sdk::ByteStreamPtr)>;

  ConnectAttempt(const asio::any_io_executor& ex, Handler h, const UnixBackendConfig& c, stream_protocol::endpoint at,
                 sdk::StreamInfo i, sdk::Logger& l, std::shared_ptr<RefusalLog> r)
      : socket(ex),
        timer(ex),
        handler(std::move(h)),
        config(c),
        endpoint(std::move(at)),
        info(std::move(i)),
        logger(l),
        refusals(std::move(r)) {}

  void start() {
    deadline = std::chrono::steady_clock::now() + config.connect_timeout;
    sdk::error_code ec;
    socket.open(stream_protocol(), ec);
    if (!ec) socket.non_blocking(true, ec);
    if (ec) {
      logger.warn("cannot open a socket for backend " + config.path + ": " + ec.message());
      return finish(sdk::make_error_code(sdk::errc::backend_refused));
    }
    try_connect();
  }

  void try_connect() {
    if (::connect(socket.native_handle(), endpoint.data(), static_cast<socklen_t>(endpoint.size())) == 0)
      return connected();
    int error = errno;
    if (error == EINTR) return try_connect();
    if (error == EAGAIN) return retry_later();
    // Core's line says only that the backend refused; this one says why,
    // once per reason per 10 s however many public connections hit it.
    if (auto line = refusals->refused(error, sdk::Clock::now())) log(*line);
    logger.debug("backend " + config.path +
                 " refused a stream: " + RefusalLog::reason(error, config.path.front() == '@'));
    finish(sdk::make_error_code(sdk::errc::backend_refused));
  }

  void log(const LogLine& line) {
    if (logger.enabled(line.level)) logger.log(line.level, line.text);
  }

  void retry_later() {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      logger.debug("backend " + config.path + ": listen backlog still full after the connect_timeout");
      return finish(sdk::make_error_code(sdk::errc::backend_timeout));
    }
    timer.expires_at(std::min(now + retry_delay, deadline));
    retry_delay = std::min<std::chrono::steady_clock::duration>(retry_delay * 2, max_retry_delay);
    timer.async_wait([self = shared_from_this()](sdk::error_code ec) {
      if (!ec) self->try_connect();
    });
  }

  void connected() {
    if (auto line = refusals->connected(sdk::Clock::now())) log(*line);
    if (config.proxy_protocol == ProxyProtocol::off) return finish({});
    // The connect_timeout bounds the write too: a service that never reads
    // cannot hold the stream open.
    timer.expires_at(deadline);
    timer.async_wait([self = shared_from_this()](sdk::error_code ec) {
      if (!ec && !self->done) {
        self->logger.debug("backend " + self->config.path + " did not take the PROXY header by the connect_timeout");
        self->finish(sdk::make_error_code(sdk::errc::backend_timeout));
      }
    });
    proxy_header::write(socket, config.proxy_protocol, info, config.path, logger, shared_from_this(),
                        [this](sdk::error_code ec) {
                          if (!done) finish(ec);
                        });
  }

  void finish(sdk::error_code ec) {
    if (done) return;
    done = true;
    timer.cancel();
    sdk::ByteStreamPtr stream;
    sdk::error_code ignored;
    if (!ec) {
      socket.non_blocking(false, ignored);  // back to Asio's default; its async ops need no flag from us
      stream = std::make_unique<sdk::SocketStream<stream_protocol::socket>>(std::move(socket));
    } else {
      socket.close(ignored);
    }
    // Post: never complete inside the initiating call.
    asio::post(timer.get_executor(), [h = std::move(handler), ec, s = std::move(stream)]() mutable {
      std::move(h)(ec, std::move(s));
    });
  }

  static constexpr std::chrono::milliseconds max_retry_delay{50};

  stream_protocol::socket socket;
  asio::steady_timer timer;
  Handler handler;
  const UnixBackendConfig config;  // a copy: the attempt may outlive the backend
  const stream_protocol::endpoint endpoint;
  const sdk::StreamInfo info;
  sdk::Logger& logger;
  const std::shared_ptr<RefusalLog> refusals;  // the backend's, shared by its attempts
  bool done = false;
  std::chrono::steady_clock::time_point deadline;
  std::chrono::steady_clock::duration retry_delay = std::chrono::milliseconds(1);
};

}  // namespace

UnixBackend::UnixBackend(UnixBackendConfig config, sdk::PluginContext& context)
    : config_(std::move(config)),
      endpoint_(endpoint_for(config_.path)),
      context_(context),
      refusals_(std::make_shared<RefusalLog>(config_.path)) {}

void UnixBackend::async_connect_impl(sdk::StreamInfo info,
                                     asio::any_completion_handler<void(sdk::error_code, sdk::ByteStreamPtr)> handler) {
  std::make_shared<ConnectAttempt>(context_.executor, std::move(handler), config_, endpoint_, std::move(info),
                                   context_.logger, refusals_)
      ->start();
}

}  // namespace warren::unix_socket

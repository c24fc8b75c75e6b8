#include "plugins/tcp/tcp_backend.hpp"

#include "plugins/proxy_header/proxy_header_write.hpp"

#include <warren/sdk/socket_stream.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

namespace warren::tcp {

namespace asio = boost::asio;
using asio::ip::tcp;

const sdk::ConfigSchema<TcpBackendConfig>& tcp_backend_schema() {
  using namespace std::chrono_literals;
  using C = TcpBackendConfig;
  static const auto schema =
      sdk::ConfigSchema<C>("where the connector delivers each tunnelled stream: one TCP service")
          .endpoint("address", &C::address, "the local service, host:port")
          .required()
          .boolean("allow_remote", &C::allow_remote, "allow targets that are not loopback addresses")
          .duration("connect_timeout", &C::connect_timeout, "deadline for connecting to the service",
                    {.min = 1ms, .max = 5min})
          .boolean("nodelay", &C::nodelay, "disable Nagle's algorithm on backend connections")
          .choice("proxy_protocol", &C::proxy_protocol, proxy_header::choices(), proxy_header::doc())
          .check([](const C& c, const sdk::CheckContext& at) {
            // A name (e.g. localhost) is resolved at connect time; only a literal can be judged here.
            sdk::error_code ec;
            auto literal = asio::ip::make_address(c.address.host, ec);
            if (!ec && !c.allow_remote && !is_loopback(literal))
              at.error("address", "backend address " + c.address.to_string() +
                                      " is not a loopback address; tunnel clients would reach your network through "
                                      "it. Set allow_remote = true if that is intended");
          });
  return schema;
}

namespace {

/// One connect attempt racing its deadline; whichever finishes first wins.
struct ConnectAttempt : std::enable_shared_from_this<ConnectAttempt> {
  using Handler = asio::any_completion_handler<void(sdk::error_code, sdk::ByteStreamPtr)>;

  ConnectAttempt(const asio::any_io_executor& ex, Handler h, const TcpBackendConfig& c, sdk::StreamInfo i,
                 sdk::Logger& l)
      : resolver(ex), socket(ex), timer(ex), handler(std::move(h)), config(c), info(std::move(i)), logger(l) {}

  void start() {
    timer.expires_after(config.connect_timeout);
    timer.async_wait([self = shared_from_this()](sdk::error_code ec) {
      if (!ec) self->finish(sdk::make_error_code(sdk::errc::backend_timeout));
    });
    // A literal address needs no resolver: asio resolves on a thread of its
    // own, a round trip between threads on every new stream (tens of
    // microseconds of time to first byte on a busy machine).
    sdk::error_code literal_error;
    auto literal = asio::ip::make_address(config.address.host, literal_error);
    if (!literal_error) {
      if (!config.allow_remote && !is_loopback(literal)) {
        logger.error("backend " + config.address.to_string() +
                     " is not a loopback address; set allow_remote = true "
                     "to permit it");
        return finish(sdk::make_error_code(sdk::errc::remote_not_allowed));
      }
      tcp::endpoint at(literal, config.address.port);
      return socket.async_connect(at, [self = shared_from_this()](sdk::error_code e) { self->on_connected(e); });
    }
    resolver.async_resolve(config.address.host, std::to_string(config.address.port),
                           [self = shared_from_this()](sdk::error_code ec, tcp::resolver::results_type results) {
                             self->on_resolved(ec, std::move(results));
                           });
  }

  void on_resolved(sdk::error_code ec, tcp::resolver::results_type results) {
    if (done) return;
    if (ec) {
      logger.warn("cannot resolve backend " + config.address.to_string() + ": " + ec.message());
      return finish(sdk::make_error_code(sdk::errc::backend_refused));
    }
    if (!config.allow_remote) {
      for (const auto& entry : results) {
        if (!is_loopback(entry.endpoint().address())) {
          logger.error("backend " + config.address.host + " resolves to " + entry.endpoint().address().to_string() +
                       ", which is not loopback; set allow_remote = true to permit it");
          return finish(sdk::make_error_code(sdk::errc::remote_not_allowed));
        }
      }
    }
    asio::async_connect(socket, results, [self = shared_from_this()](sdk::error_code e, const tcp::endpoint&) {
      self->on_connected(e);
    });
  }

  void on_connected(sdk::error_code ec) {
    if (done) return;
    if (ec) {
      logger.debug("backend " + config.address.to_string() + " refused: " + ec.message());
      return finish(sdk::make_error_code(sdk::errc::backend_refused));
    }
    if (config.nodelay) socket.set_option(tcp::no_delay(true), ec);
    if (config.proxy_protocol == ProxyProtocol::off) return finish({});
    send_proxy_header();
  }

  // connect_timeout's timer, still running, bounds the header's write too.
  void send_proxy_header() {
    proxy_header::write(socket, config.proxy_protocol, info, config.address.to_string(), logger, shared_from_this(),
                        [this](sdk::error_code ec) {
                          if (!done) finish(ec);
                        });
  }

  void finish(sdk::error_code ec) {
    if (done) return;
    done = true;
    timer.cancel();
    resolver.cancel();
    sdk::ByteStreamPtr stream;
    sdk::error_code ignored;
    if (!ec) stream = std::make_unique<sdk::SocketStream<tcp::socket>>(std::move(socket));
    else socket.close(ignored);  // cancels a pending connect
    // Post: never complete inside the initiating call.
    asio::post(timer.get_executor(), [h = std::move(handler), ec, s = std::move(stream)]() mutable {
      std::move(h)(ec, std::move(s));
    });
  }

  tcp::resolver resolver;
  tcp::socket socket;
  asio::steady_timer timer;
  Handler handler;
  const TcpBackendConfig config;  // a copy: the attempt may outlive the backend
  const sdk::StreamInfo info;
  sdk::Logger& logger;
  bool done = false;
};

}  // namespace

void TcpBackend::async_connect_impl(sdk::StreamInfo info,
                                    asio::any_completion_handler<void(sdk::error_code, sdk::ByteStreamPtr)> handler) {
  std::make_shared<ConnectAttempt>(context_.executor, std::move(handler), config_, std::move(info), context_.logger)
      ->start();
}

}  // namespace warren::tcp

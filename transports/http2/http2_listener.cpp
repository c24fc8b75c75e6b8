#include "http2_listener.hpp"

#include <warren/sdk/completion.hpp>
#include <warren/sdk/endpoint.hpp>
#include <warren/sdk/engine_handles.hpp>

#include <boost/asio/ip/v6_only.hpp>

namespace warren::http2 {

using sdk::complete_if_pending;
using sdk::complete_later;
using sdk::store_handler;

namespace {

/// Destroying the handle says operation_aborted to the peer (GOAWAY).
std::unique_ptr<sdk::Connection> make_handle(Http2Connection::Ptr connection) {
  return std::make_unique<sdk::ConnectionHandle<Http2Connection>>(std::move(connection),
                                                                  boost::asio::error::operation_aborted);
}

}  // namespace

struct Http2Listener::State : std::enable_shared_from_this<State> {
  State(boost::asio::any_io_executor ex, std::shared_ptr<sdk::tls::Credentials> creds, const ConnectionLimits& lim,
        sdk::Logger& log)
      : executor(ex), acceptor(ex), credentials(std::move(creds)), limits(lim), logger(log) {}

  boost::asio::any_io_executor executor;
  tcp::acceptor acceptor;
  std::shared_ptr<sdk::tls::Credentials> credentials;
  ConnectionLimits limits;
  sdk::Logger& logger;
  bool closed = false;
  std::unordered_map<Http2Connection*, std::weak_ptr<Http2Connection>> handshaking;
  std::deque<Http2Connection::Ptr> ready;
  sdk::ConnectionHandler waiting;
  std::uint64_t completed = 0;
  std::uint64_t failed = 0;

  void accept_next() {
    acceptor.async_accept([self = shared_from_this()](const sdk::error_code& ec, tcp::socket socket) {
      if (self->closed) return;
      if (!ec) self->start(std::move(socket));
      // Errors such as EMFILE pass; the next accept may succeed.
      self->accept_next();
    });
  }

  void start(tcp::socket socket) {
    std::string why;
    auto tls = TlsChannel::server(credentials, why);
    if (!tls) {
      logger.error("cannot start TLS for a connection: " + why);
      return;
    }
    auto connection = Http2Connection::server(std::move(socket), std::move(tls), limits, logger);
    Http2Connection* key = connection.get();
    handshaking.emplace(key, connection);
    connection->handshake(
        [weak_self = weak_from_this(), key, weak = std::weak_ptr(connection)](const sdk::error_code& ec) {
          auto self = weak_self.lock();
          if (!self) return;
          self->handshaking.erase(key);
          auto established = weak.lock();
          if (ec || !established || self->closed) {
            ++self->failed;
            return;
          }
          ++self->completed;
          self->deliver(std::move(established));
        });
  }

  void deliver(Http2Connection::Ptr connection) {
    if (waiting) {
      sdk::ConnectionHandler handler;
      store_handler(handler, std::move(waiting));
      waiting = nullptr;
      complete_later(executor, std::move(handler), sdk::error_code(),
                     sdk::ConnectionPtr(make_handle(std::move(connection))));
      return;
    }
    ready.push_back(std::move(connection));
  }

  void close() {
    if (closed) return;
    closed = true;
    sdk::error_code ignored;
    acceptor.close(ignored);
    auto pending = std::move(handshaking);
    handshaking.clear();
    for (auto& [key, weak] : pending)
      if (auto connection = weak.lock()) connection->close(boost::asio::error::operation_aborted);
    for (auto& connection : ready) connection->close(sdk::make_error_code(sdk::errc::shutting_down));
    ready.clear();
    complete_if_pending(executor, waiting, sdk::error_code(boost::asio::error::operation_aborted),
                        sdk::ConnectionPtr());
  }
};

std::unique_ptr<Http2Listener> Http2Listener::open(boost::asio::any_io_executor executor, const tcp::endpoint& where,
                                                   std::shared_ptr<sdk::tls::Credentials> credentials,
                                                   const ConnectionLimits& limits, sdk::Logger& logger,
                                                   sdk::error_code& ec) {
  auto state = std::make_shared<State>(executor, std::move(credentials), limits, logger);
  auto& acceptor = state->acceptor;
  acceptor.open(where.protocol(), ec);
  if (ec) return nullptr;
  sdk::error_code ignored;
  // TIME_WAIT connections of an earlier run do not block a restart; a live
  // listener on the port still does (EADDRINUSE).
  acceptor.set_option(tcp::acceptor::reuse_address(true), ignored);
  if (where.address().is_v6()) acceptor.set_option(boost::asio::ip::v6_only(true), ignored);
  acceptor.bind(where, ec);
  if (!ec) acceptor.listen(tcp::acceptor::max_listen_connections, ec);
  if (ec) {
    if (ec == boost::asio::error::address_in_use) ec = sdk::make_error_code(sdk::errc::port_in_use);
    logger.debug("cannot listen on " + sdk::format_host_port(where.address().to_string(), where.port()) +
                 " (TCP): " + ec.message());
    return nullptr;
  }
  ec.clear();
  auto port = acceptor.local_endpoint(ec).port();
  if (ec) return nullptr;
  state->accept_next();
  return std::unique_ptr<Http2Listener>(new Http2Listener(std::move(state), port));
}

Http2Listener::~Http2Listener() { close(); }

void Http2Listener::close() { state_->close(); }

bool Http2Listener::replace_certificate(const std::string& cert_pem, const std::string& key_pem, std::string& why) {
  auto credentials = sdk::tls::Credentials::server(cert_pem, key_pem, why);
  if (!credentials) return false;
  state_->credentials = std::move(credentials);  // each TlsChannel holds the pair it began with
  return true;
}

void Http2Listener::async_accept_impl(sdk::ConnectionHandler handler) {
  if (!state_->ready.empty()) {
    auto connection = std::move(state_->ready.front());
    state_->ready.pop_front();
    return complete_later(state_->executor, std::move(handler), sdk::error_code(),
                          sdk::ConnectionPtr(make_handle(std::move(connection))));
  }
  if (state_->closed)
    return complete_later(state_->executor, std::move(handler), sdk::error_code(boost::asio::error::operation_aborted),
                          sdk::ConnectionPtr());
  store_handler(state_->waiting, std::move(handler));
}

sdk::ListenerStats Http2Listener::stats() const {
  using Kind = sdk::ListenerMetric::Kind;
  const char* help = "TLS handshakes on the HTTP/2 listener that ended, by outcome.";
  return {
      {"http2_handshakes_total", help, Kind::counter, {{"outcome", "completed"}}, state_->completed},
      {"http2_handshakes_total", help, Kind::counter, {{"outcome", "failed"}}, state_->failed},
      {"http2_handshakes_pending",
       "TLS handshakes in progress on the HTTP/2 listener.",
       Kind::gauge,
       {},
       state_->handshaking.size()},
  };
}

}  // namespace warren::http2

// The tcptls plugin: its one key, the transport (dial), and the listener.
// Everything beyond the TLS socket and the connection engine comes from
// the installed SDK: PendingDials, ConnectionHandle, check_edge_verification,
// the TLS credentials and edge check, complete_later.

#include "tcptls_connection.hpp"

#include <warren/sdk/completion.hpp>
#include <warren/sdk/config_schema.hpp>
#include <warren/sdk/endpoint.hpp>
#include <warren/sdk/pending_dials.hpp>
#include <warren/sdk/plugin.hpp>

#include <boost/asio/ip/v6_only.hpp>
#include <gnutls/crypto.h>

#include <deque>
#include <map>

namespace tcptls {
namespace {

using sdk::complete_later;

struct Settings {
  bool nodelay = true;
  std::int64_t socket_buffer = 256 * 1024;
};

const sdk::ConfigSchema<Settings>& settings_schema() {
  static const auto schema =
      sdk::ConfigSchema<Settings>("TLS 1.3 over TCP, one TCP connection per stream (an SDK example)")
          .boolean("nodelay", &Settings::nodelay, "TCP_NODELAY on every socket: small writes go out at once")
          .integer("socket_buffer", &Settings::socket_buffer,
                   "SO_SNDBUF and SO_RCVBUF of every socket, bytes: what a stalled stream can hold in the kernel "
                   "(0: the kernel's autotuning, megabytes per stream)",
                   {.min = 0, .max = 64 << 20});
  return schema;
}

/// What the listener's accept loop and its connections share.
struct ListenerState : std::enable_shared_from_this<ListenerState> {
  ListenerState(boost::asio::any_io_executor ex, std::shared_ptr<sdk::tls::Credentials> creds, Timing t,
                sdk::Logger& log)
      : executor(ex), acceptor(ex), credentials(std::move(creds)), timing(t), logger(log) {}

  boost::asio::any_io_executor executor;
  tcp::acceptor acceptor;
  std::shared_ptr<sdk::tls::Credentials> credentials;
  Timing timing;
  sdk::Logger& logger;
  bool closed = false;
  std::map<Token, std::weak_ptr<Connection>> connections;  ///< by the token their streams present
  std::vector<std::weak_ptr<TlsSocket>> greeting;          ///< sockets before their hello
  std::deque<Connection::Ptr> ready;
  sdk::ConnectionHandler waiting;

  void accept_loop() {
    acceptor.async_accept([self = shared_from_this()](sdk::error_code ec, tcp::socket socket) {
      if (self->closed) return;
      if (!ec) self->greet(std::move(socket));
      self->accept_loop();
    });
  }

  void greet(tcp::socket socket) {
    std::string why;
    auto tls = TlsSocket::server(std::move(socket), credentials, timing.nodelay, why);
    if (!tls) return logger.warn("cannot start TLS: " + why);
    std::erase_if(greeting, [](const std::weak_ptr<TlsSocket>& w) { return w.expired(); });
    greeting.push_back(tls);
    auto timer = std::make_shared<boost::asio::steady_timer>(executor);
    if (timing.handshake_timeout > sdk::Duration::zero()) {
      timer->expires_after(timing.handshake_timeout);
      timer->async_wait([weak = std::weak_ptr(tls)](sdk::error_code ec) {
        if (auto tls = weak.lock(); !ec && tls) tls->abort();
      });
    }
    tls->handshake([self = shared_from_this(), tls, timer](sdk::error_code ec) {
      if (ec) return tls->abort();
      auto hello = std::make_shared<std::vector<std::uint8_t>>(17);
      read_hello(tls, hello, 0, [self, tls, timer, hello](sdk::error_code ec) {
        timer->cancel();
        if (ec || self->closed) return tls->abort();
        self->dispatch(tls, *hello);
      });
    });
  }

  static void read_hello(std::shared_ptr<TlsSocket> tls, std::shared_ptr<std::vector<std::uint8_t>> hello,
                         std::size_t got, std::function<void(sdk::error_code)> done) {
    if (got == hello->size()) return done({});
    auto* tls_ptr = tls.get();
    tls_ptr->read_some(boost::asio::buffer(hello->data() + got, hello->size() - got),
                       [tls = std::move(tls), hello, got, done](sdk::error_code ec, std::size_t n) {
                         if (ec) return done(ec);
                         read_hello(tls, hello, got + n, done);
                       });
  }

  void dispatch(const std::shared_ptr<TlsSocket>& tls, const std::vector<std::uint8_t>& hello) {
    Token token;
    std::copy(hello.begin() + 1, hello.end(), token.begin());
    char kind = static_cast<char>(hello[0]);
    if (kind == 'S' || kind == 'R') {
      auto found = connections.find(token);
      auto connection = found == connections.end() ? nullptr : found->second.lock();
      if (!connection) return tls->abort();
      return connection->adopt_stream(tls, kind);
    }
    if (kind != 'C') return tls->abort();
    // A fresh random token: it is what lets a TCP connection join this one.
    if (gnutls_rnd(GNUTLS_RND_RANDOM, token.data(), token.size()) < 0) return tls->abort();
    auto answer = std::make_shared<const std::string>(token.begin(), token.end());
    // The shorter idle timeout of the two ends applies to both (zero: none).
    Timing agreed = timing;
    std::uint32_t idle_ms = 0;
    for (int i = 1; i <= 4; ++i) idle_ms = (idle_ms << 8) | hello[static_cast<std::size_t>(i)];
    sdk::Duration dialer_idle = std::chrono::milliseconds(idle_ms);
    if (dialer_idle > sdk::Duration::zero() &&
        (agreed.idle_timeout <= sdk::Duration::zero() || dialer_idle < agreed.idle_timeout))
      agreed.idle_timeout = dialer_idle;
    auto connection = Connection::accepted(tls, token, agreed, logger, [weak = weak_from_this(), token] {
      if (auto self = weak.lock()) self->connections.erase(token);
    });
    connections[token] = connection;
    auto* tls_ptr = tls.get();
    tls_ptr->write_some(boost::asio::buffer(*answer),
                        [self = shared_from_this(), answer, connection](sdk::error_code ec, std::size_t n) {
                          // 16 bytes fit one record, so one write_some takes them all.
                          if (ec || n != answer->size()) return connection->close(ec);
                          connection->start();
                          self->deliver(connection);
                        });
  }

  void deliver(Connection::Ptr connection) {
    if (waiting) {
      sdk::ConnectionHandler handler = std::move(waiting);
      waiting = nullptr;
      return complete_later(executor, std::move(handler), sdk::error_code(),
                            sdk::ConnectionPtr(std::make_unique<sdk::ConnectionHandle<Connection>>(connection)));
    }
    ready.push_back(std::move(connection));
  }

  void close() {
    if (closed) return;
    closed = true;
    sdk::error_code ignored;
    acceptor.close(ignored);
    for (auto& weak : greeting)
      if (auto tls = weak.lock()) tls->abort();
    for (auto& connection : ready) connection->close(boost::asio::error::operation_aborted);
    ready.clear();
    sdk::complete_if_pending(executor, waiting, sdk::error_code(boost::asio::error::operation_aborted),
                             sdk::ConnectionPtr());
  }
};

class Listener final : public sdk::Listener {
 public:
  explicit Listener(std::shared_ptr<ListenerState> state) : state_(std::move(state)) {}
  /// Stops accepting. Connections already accepted live on, but no new
  /// stream can join them: their TCP connections arrive through this port.
  ~Listener() override { state_->close(); }
  std::uint16_t local_port() const override {
    sdk::error_code ec;
    return state_->acceptor.local_endpoint(ec).port();
  }
  void close() override { state_->close(); }

 private:
  void async_accept_impl(sdk::ConnectionHandler handler) override {
    auto& s = *state_;
    if (!s.ready.empty()) {
      auto connection = std::move(s.ready.front());
      s.ready.pop_front();
      return complete_later(s.executor, std::move(handler), sdk::error_code(),
                            sdk::ConnectionPtr(std::make_unique<sdk::ConnectionHandle<Connection>>(connection)));
    }
    if (s.closed)
      return complete_later(s.executor, std::move(handler), sdk::error_code(boost::asio::error::operation_aborted),
                            sdk::ConnectionPtr());
    sdk::store_handler(s.waiting, std::move(handler));
  }

  std::shared_ptr<ListenerState> state_;
};

class Transport final : public sdk::Transport {
 public:
  Transport(const Settings& settings, sdk::PluginContext& context)
      : executor_(context.executor), logger_(context.logger), settings_(settings) {}
  /// Dials still in their handshake fail with operation_aborted.
  ~Transport() override { dials_->abort_all(); }

  sdk::ListenerPtr listen(const sdk::ListenOptions& options, sdk::error_code& ec) override {
    std::string where = sdk::format_host_port(options.address.to_string(), options.port);
    std::string why;
    auto credentials = sdk::tls::Credentials::server(options.cert_pem, options.key_pem, why);
    if (!credentials) {
      logger_.error("cannot listen on " + where + ": " + why);
      ec = sdk::make_error_code(sdk::errc::config_invalid);
      return nullptr;
    }
    Timing timing{options.handshake_timeout, options.idle_timeout, sdk::Duration::zero(), settings_.nodelay,
                  static_cast<int>(settings_.socket_buffer)};
    auto state = std::make_shared<ListenerState>(executor_, std::move(credentials), timing, logger_);
    tcp::endpoint endpoint(options.address, options.port);
    state->acceptor.open(endpoint.protocol(), ec);
    if (!ec && endpoint.address().is_v6()) state->acceptor.set_option(boost::asio::ip::v6_only(true), ec);
    if (!ec) state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) bound_buffers(state->acceptor, timing, ec);  // accepted sockets inherit them
    if (!ec) state->acceptor.bind(endpoint, ec);
    if (!ec) state->acceptor.listen(tcp::acceptor::max_listen_connections, ec);
    if (ec) {
      if (ec == boost::asio::error::address_in_use) ec = sdk::make_error_code(sdk::errc::port_in_use);
      return nullptr;
    }
    state->accept_loop();
    return std::make_unique<Listener>(std::move(state));
  }

 private:
  void async_dial_impl(sdk::DialOptions options, sdk::ConnectionHandler handler) override {
    std::string target = sdk::format_host_port(options.address.to_string(), options.port);
    auto refuse = [&](sdk::errc code, const std::string& why) {
      logger_.error("cannot dial " + target + ": " + why);
      complete_later(executor_, std::move(handler), sdk::make_error_code(code), sdk::ConnectionPtr());
    };
    if (auto why = sdk::check_edge_verification(options, target, logger_, warned_insecure_); !why.empty())
      return refuse(sdk::errc::config_invalid, why);
    std::string why;
    auto credentials = sdk::tls::Credentials::client(options.verify, why);
    if (!credentials) return refuse(sdk::errc::tls_failed, why);
    std::string server_name = options.server_name.empty() ? options.address.to_string() : options.server_name;
    Timing timing{options.handshake_timeout, options.idle_timeout, options.keepalive, settings_.nodelay,
                  static_cast<int>(settings_.socket_buffer)};
    auto connection = Connection::dialer(executor_, tcp::endpoint(options.address, options.port),
                                         std::move(credentials), options.verify, server_name, timing, logger_);
    connection->dial(dials_->track(connection, executor_, std::move(handler)));
  }

  boost::asio::any_io_executor executor_;
  sdk::Logger& logger_;
  Settings settings_;
  std::shared_ptr<sdk::PendingDials<Connection>> dials_ = std::make_shared<sdk::PendingDials<Connection>>();
  bool warned_insecure_ = false;
};

std::unique_ptr<sdk::Transport> make_transport(const Settings& settings, sdk::PluginContext& context) {
  return std::make_unique<Transport>(settings, context);
}

}  // namespace
}  // namespace tcptls

WARREN_TYPED_PLUGIN("tcptls", "0.1.0", "TLS 1.3 over TCP, one TCP connection per stream (SDK example)",
                    tcptls::settings_schema, tcptls::make_transport)

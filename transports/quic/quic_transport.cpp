#include "quic_transport.hpp"

#include "completion.hpp"
#include "quic_listener.hpp"

#include <warren/sdk/endpoint.hpp>

namespace warren::quic {

namespace {

std::string endpoint_text(const boost::asio::ip::address& address, std::uint16_t port) {
  return sdk::format_host_port(address.to_string(), port);
}

}  // namespace

QuicTransport::QuicTransport(const QuicSettings& settings, const HandshakeLimits& handshake_limits,
                             sdk::PluginContext& context)
    : executor_(context.executor),
      logger_(context.logger),
      settings_(settings),
      handshake_limits_(handshake_limits),
      dials_(std::make_shared<sdk::PendingDials<QuicConnection>>()) {}

QuicTransport::~QuicTransport() { dials_->abort_all(); }

std::shared_ptr<UdpEndpoint> QuicTransport::client_endpoint(bool v6, sdk::error_code& ec) {
  auto& endpoint = v6 ? v6_ : v4_;
  if (endpoint) return endpoint;
  auto any = v6 ? boost::asio::ip::address(boost::asio::ip::address_v6::any())
                : boost::asio::ip::address(boost::asio::ip::address_v4::any());
  endpoint = UdpEndpoint::open(executor_, udp::endpoint(any, 0), ec);
  if (endpoint) endpoint->start();
  return endpoint;
}

void QuicTransport::async_dial_impl(sdk::DialOptions options, sdk::ConnectionHandler handler) {
  std::string target = endpoint_text(options.address, options.port);
  auto refuse = [&](sdk::errc code, const std::string& why) {
    logger_.error("cannot dial " + target + ": " + why);
    complete_later(executor_, std::move(handler), sdk::make_error_code(code), sdk::ConnectionPtr());
  };
  if (auto why = sdk::check_edge_verification(options, target, logger_, warned_insecure_); !why.empty())
    return refuse(sdk::errc::config_invalid, why);
  const auto& verify = options.verify;
  sdk::error_code ec;
  auto endpoint = client_endpoint(options.address.is_v6(), ec);
  if (!endpoint) return refuse(sdk::errc::dial_failed, "cannot open a UDP socket: " + ec.message());

  PeerCheck check{verify, options.server_name};
  if (check.server_name.empty()) check.server_name = options.address.to_string();
  ConnectionLimits limits{settings_, options.idle_timeout, options.handshake_timeout, options.keepalive};
  std::string why;
  auto connection =
      QuicConnection::dial(endpoint, udp::endpoint(options.address, options.port), check, limits, logger_, why);
  if (!connection) return refuse(sdk::errc::tls_failed, why);

  // Destroying the handle closes without an error code: a plain CONNECTION_CLOSE.
  connection->start(dials_->track(connection, executor_, std::move(handler)));
}

sdk::ListenerPtr QuicTransport::listen(const sdk::ListenOptions& options, sdk::error_code& ec) {
  std::string where = endpoint_text(options.address, options.port);
  std::string why;
  auto credentials = ServerCredentials::load(options.cert_pem, options.key_pem, why);
  if (!credentials) {
    logger_.error("cannot listen on " + where + ": " + why);
    ec = sdk::make_error_code(sdk::errc::config_invalid);
    return nullptr;
  }
  // Before the socket: a secret that cannot be read is a refusal to start,
  // not a listener whose resets nobody would believe.
  std::string note;
  auto reset = StatelessReset::load_or_create(options.state_dir, why, note);
  if (!reset) {
    logger_.error("cannot listen on " + where + ": " + why);
    ec = sdk::make_error_code(sdk::errc::config_invalid);
    return nullptr;
  }
  if (!note.empty()) logger_.warn(note);
  if (options.state_dir.empty())
    logger_.debug("QUIC stateless reset secret drawn for this run only (no state_dir): after a restart, "
                  "connectors notice by their timeouts");
  auto endpoint = UdpEndpoint::open(executor_, udp::endpoint(options.address, options.port), ec);
  if (!endpoint) {
    // The host reports the error code in its own words (which address, who holds it).
    logger_.debug("cannot listen on " + where + " (UDP): " + ec.message());
    return nullptr;
  }
  ConnectionLimits limits{settings_, options.idle_timeout, options.handshake_timeout, sdk::Duration::zero()};
  auto listener = QuicListener::create(std::move(endpoint), std::move(credentials), std::move(reset), limits,
                                       handshake_limits_, logger_, why);
  if (!listener) {
    logger_.error("cannot listen on " + where + ": " + why);
    ec = sdk::make_error_code(sdk::errc::config_invalid);
  }
  return listener;
}

}  // namespace warren::quic

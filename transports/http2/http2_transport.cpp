#include "http2_transport.hpp"

#include "http2_listener.hpp"

#include <warren/sdk/completion.hpp>
#include <warren/sdk/endpoint.hpp>

namespace warren::http2 {

using sdk::complete_later;

Http2Transport::Http2Transport(const Http2Settings& settings, sdk::PluginContext& context)
    : executor_(context.executor),
      logger_(context.logger),
      settings_(settings),
      dials_(std::make_shared<sdk::PendingDials<Http2Connection>>()) {}

Http2Transport::~Http2Transport() { dials_->abort_all(); }

void Http2Transport::async_dial_impl(sdk::DialOptions options, sdk::ConnectionHandler handler) {
  std::string target = sdk::format_host_port(options.address.to_string(), options.port);
  auto refuse = [&](sdk::errc code, const std::string& why) {
    logger_.error("cannot dial " + target + ": " + why);
    complete_later(executor_, std::move(handler), sdk::make_error_code(code), sdk::ConnectionPtr());
  };
  if (auto why = sdk::check_edge_verification(options, target, logger_, warned_insecure_); !why.empty())
    return refuse(sdk::errc::config_invalid, why);
  const auto& verify = options.verify;
  std::string server_name = options.server_name.empty() ? options.address.to_string() : options.server_name;
  std::string why;
  auto tls = TlsChannel::client(verify, server_name, why);
  if (!tls) return refuse(sdk::errc::tls_failed, why);
  ConnectionLimits limits{settings_, options.idle_timeout, options.handshake_timeout, options.keepalive};
  auto connection = Http2Connection::client(executor_, std::move(tls), limits, logger_);

  // Destroying the handle says operation_aborted to the peer (GOAWAY).
  connection->dial(tcp::endpoint(options.address, options.port),
                   dials_->track(connection, executor_, std::move(handler), boost::asio::error::operation_aborted));
}

sdk::ListenerPtr Http2Transport::listen(const sdk::ListenOptions& options, sdk::error_code& ec) {
  std::string where = sdk::format_host_port(options.address.to_string(), options.port);
  std::string why;
  auto credentials = sdk::tls::Credentials::server(options.cert_pem, options.key_pem, why);
  if (!credentials) {
    logger_.error("cannot listen on " + where + ": " + why);
    ec = sdk::make_error_code(sdk::errc::config_invalid);
    return nullptr;
  }
  ConnectionLimits limits{settings_, options.idle_timeout, options.handshake_timeout, sdk::Duration::zero()};
  return Http2Listener::open(executor_, tcp::endpoint(options.address, options.port), std::move(credentials), limits,
                             logger_, ec);
}

}  // namespace warren::http2

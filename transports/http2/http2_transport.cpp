#include "http2_transport.hpp"

#include "connection_handle.hpp"
#include "http2_listener.hpp"

#include <warren/sdk/completion.hpp>
#include <warren/sdk/endpoint.hpp>

namespace warren::http2 {

using sdk::complete_later;

Http2Transport::Http2Transport(const Http2Settings& settings, sdk::PluginContext& context)
    : executor_(context.executor),
      logger_(context.logger),
      settings_(settings),
      dials_(std::make_shared<PendingDials>()) {}

Http2Transport::~Http2Transport() {
  auto pending = std::move(dials_->connections);
  for (auto& [key, weak] : pending)
    if (auto connection = weak.lock()) connection->close(boost::asio::error::operation_aborted);
}

void Http2Transport::async_dial_impl(sdk::DialOptions options, sdk::ConnectionHandler handler) {
  std::string target = sdk::format_host_port(options.address.to_string(), options.port);
  auto refuse = [&](sdk::errc code, const std::string& why) {
    logger_.error("cannot dial " + target + ": " + why);
    complete_later(executor_, std::move(handler), sdk::make_error_code(code), sdk::ConnectionPtr());
  };
  const auto& verify = options.verify;
  if (!verify.insecure && !verify.pin_sha256 && verify.ca_file.empty())
    return refuse(sdk::errc::config_invalid, "no way to verify the edge (give a pin, a CA file, or insecure)");
  // Said once per transport (the first insecure dial), not at every dial.
  if (verify.insecure && !warned_insecure_) {
    warned_insecure_ = true;
    logger_.warn("insecure: dialing " + target +
                 " WITHOUT verifying its certificate, here and at every later dial; anyone on the path can "
                 "impersonate the edge");
  }
  std::string server_name = options.server_name.empty() ? options.address.to_string() : options.server_name;
  std::string why;
  auto tls = TlsChannel::client(verify, server_name, why);
  if (!tls) return refuse(sdk::errc::tls_failed, why);
  ConnectionLimits limits{settings_, options.idle_timeout, options.handshake_timeout, options.keepalive};
  auto connection = Http2Connection::client(executor_, std::move(tls), limits, logger_);

  Http2Connection* key = connection.get();
  dials_->connections.emplace(key, connection);
  // std::function needs a copyable callable; the handler is move-only.
  auto shared_handler = std::make_shared<sdk::ConnectionHandler>(std::move(handler));
  connection->dial(tcp::endpoint(options.address, options.port), [registry = std::weak_ptr(dials_), key,
                                                                  weak = std::weak_ptr(connection), shared_handler,
                                                                  executor = executor_](const sdk::error_code& result) {
    if (auto dials = registry.lock()) dials->connections.erase(key);
    auto established = weak.lock();
    if (!result && established) {
      complete_later(executor, std::move(*shared_handler), result,
                     sdk::ConnectionPtr(std::make_unique<ConnectionHandle>(std::move(established))));
    } else {
      complete_later(executor, std::move(*shared_handler),
                     result ? result : sdk::error_code(boost::asio::error::operation_aborted), sdk::ConnectionPtr());
    }
  });
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

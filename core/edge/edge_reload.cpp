#include "core/edge/edge_reload.hpp"

#include "core/edge/edge_server.hpp"
#include "core/log/logging.hpp"

#include <warren/sdk/tls_verification.hpp>

#include <spdlog/spdlog.h>

namespace warren::core {

std::optional<EdgeIdentity> read_current_identity(const EdgeSettings& settings, std::string& error) {
  auto cert = settings.cert ? *settings.cert : settings.state_dir / "edge.crt";
  auto key = settings.key ? *settings.key : settings.state_dir / "edge.key";
  EdgeIdentity identity;
  try {
    identity = load_identity(cert, key);
  } catch (const std::exception& e) {
    error = e.what();
    return std::nullopt;
  }
  // GnuTLS checks that the key belongs to the certificate (and parses both)
  // exactly as a listener will; a refused pair never reaches one.
  std::string why;
  if (!sdk::tls::Credentials::server(identity.cert_pem, identity.key_pem, why)) {
    error = cert.string() + " with " + key.string() + ": " + why;
    return std::nullopt;
  }
  return identity;
}

ReloadOutcome EdgeServer::reload() {
  ReloadOutcome outcome;
  reload_certificate(outcome);
  return outcome;
}

void EdgeServer::reload_certificate(ReloadOutcome& outcome) {
  std::string error;
  auto fresh = read_current_identity(config_.edge, error);
  if (!fresh) {
    outcome.errors.push_back("cannot reload the certificate: " + error + "; keeping " +
                             sdk::format_certificate_pin(identity_.pin));
    log().error("{}", outcome.errors.back());
    return;
  }
  std::size_t replaced = 0;
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    std::string why;
    if (listeners_[i]->replace_certificate(fresh->cert_pem, fresh->key_pem, why)) {
      ++replaced;
      continue;
    }
    outcome.errors.push_back("the " + config_.listen[i].transport.plugin + " listener on " +
                             config_.listen[i].address.to_string() + " keeps its certificate: " + why);
    log().error("{}", outcome.errors.back());
  }
  if (replaced == 0 && !listeners_.empty()) return;
  outcome.certificate_replaced = true;
  log().info("certificate reloaded from {}: pin {} (was {}); connections keep the one they began with",
             fresh->cert_file.string(), sdk::format_certificate_pin(fresh->pin),
             sdk::format_certificate_pin(identity_.pin));
  identity_ = std::move(*fresh);
  announce_("pin " + sdk::format_certificate_pin(identity_.pin));
}

}  // namespace warren::core

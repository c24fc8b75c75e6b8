#include "tls_session.hpp"

#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include <warren/sdk/tls_verification.hpp>

#include <cstring>

namespace warren::quic {
namespace {

// TLS 1.3 only, with the AEADs QUIC defines; no middlebox compatibility mode.
constexpr char priority[] =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CCM:"
    "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1:%DISABLE_TLS13_COMPAT_MODE";

gnutls_datum_t alpn_datum() {
  return {reinterpret_cast<unsigned char*>(const_cast<char*>(alpn_protocol)),
          static_cast<unsigned>(sizeof(alpn_protocol) - 1)};
}

bool selected_alpn_is_ours(gnutls_session_t session) {
  gnutls_datum_t selected{};
  if (gnutls_alpn_get_selected_protocol(session, &selected) != 0) return false;
  return selected.size == sizeof(alpn_protocol) - 1 && std::memcmp(selected.data, alpn_protocol, selected.size) == 0;
}

TlsSession* owner_of(gnutls_session_t session) {
  // The conn_ref GnuTLS hands back is the first member of a TlsAnchor.
  return reinterpret_cast<TlsAnchor*>(gnutls_session_get_ptr(session))->owner;
}

int verify_trampoline(gnutls_session_t session) { return owner_of(session)->verify_peer(); }

int client_hello_hook(gnutls_session_t session, unsigned, unsigned, unsigned, const gnutls_datum_t*) {
  // A client that offers no ALPN at all skips GnuTLS's own mandatory check.
  return selected_alpn_is_ours(session) ? 0 : GNUTLS_E_NO_APPLICATION_PROTOCOL;
}

using sdk::tls::gnutls_text;
using sdk::tls::is_ip_literal;

}  // namespace

std::shared_ptr<ServerCredentials> ServerCredentials::load(const std::string& cert_pem, const std::string& key_pem,
                                                           std::string& why) {
  std::shared_ptr<ServerCredentials> result(new ServerCredentials());
  if (int rv = gnutls_certificate_allocate_credentials(&result->credentials_); rv < 0) {
    why = "cannot allocate TLS credentials: " + gnutls_text(rv);
    return nullptr;
  }
  gnutls_datum_t cert{reinterpret_cast<unsigned char*>(const_cast<char*>(cert_pem.data())),
                      static_cast<unsigned>(cert_pem.size())};
  gnutls_datum_t key{reinterpret_cast<unsigned char*>(const_cast<char*>(key_pem.data())),
                     static_cast<unsigned>(key_pem.size())};
  if (int rv = gnutls_certificate_set_x509_key_mem2(result->credentials_, &cert, &key, GNUTLS_X509_FMT_PEM, nullptr, 0);
      rv < 0) {
    why = "the listener's certificate or key is unusable: " + gnutls_text(rv);
    return nullptr;
  }
  return result;
}

ServerCredentials::~ServerCredentials() {
  if (credentials_) gnutls_certificate_free_credentials(credentials_);
}

bool TlsSession::init(unsigned flags, ngtcp2_crypto_get_conn get_conn, void* user_data, std::string& why) {
  anchor_.conn_ref.get_conn = get_conn;
  anchor_.conn_ref.user_data = user_data;
  anchor_.owner = this;
  if (int rv = gnutls_init(&session_, flags); rv < 0) {
    session_ = nullptr;
    why = "gnutls_init: " + gnutls_text(rv);
    return false;
  }
  bool server = (flags & GNUTLS_SERVER) != 0;
  int rv = server ? ngtcp2_crypto_gnutls_configure_server_session(session_)
                  : ngtcp2_crypto_gnutls_configure_client_session(session_);
  if (rv != 0) {
    why = "cannot configure the TLS session for QUIC";
    return false;
  }
  if (rv = gnutls_priority_set_direct(session_, priority, nullptr); rv < 0) {
    why = "gnutls_priority_set_direct: " + gnutls_text(rv);
    return false;
  }
  gnutls_session_set_ptr(session_, &anchor_.conn_ref);
  gnutls_datum_t alpn = alpn_datum();
  unsigned alpn_flags = GNUTLS_ALPN_MANDATORY | (server ? GNUTLS_ALPN_SERVER_PRECEDENCE : 0);
  if (rv = gnutls_alpn_set_protocols(session_, &alpn, 1, alpn_flags); rv < 0) {
    why = "gnutls_alpn_set_protocols: " + gnutls_text(rv);
    return false;
  }
  return true;
}

std::unique_ptr<TlsSession> TlsSession::client(const PeerCheck& check, ngtcp2_crypto_get_conn get_conn, void* user_data,
                                               std::string& why) {
  std::unique_ptr<TlsSession> tls(new TlsSession());
  tls->check_ = check;
  if (!tls->init(GNUTLS_CLIENT | GNUTLS_NO_END_OF_EARLY_DATA, get_conn, user_data, why)) return nullptr;
  if (int rv = gnutls_certificate_allocate_credentials(&tls->client_credentials_); rv < 0) {
    tls->client_credentials_ = nullptr;
    why = "cannot allocate TLS credentials: " + gnutls_text(rv);
    return nullptr;
  }
  const auto& verify = check.verify;
  if (!verify.insecure && verify.accepted_pins().empty() && !verify.ca_file.empty()) {
    int count =
        gnutls_certificate_set_x509_trust_file(tls->client_credentials_, verify.ca_file.c_str(), GNUTLS_X509_FMT_PEM);
    if (count <= 0) {
      why = "cannot read CA file '" + verify.ca_file + "': " + (count < 0 ? gnutls_text(count) : "no certificates");
      return nullptr;
    }
  }
  if (int rv = gnutls_credentials_set(tls->session_, GNUTLS_CRD_CERTIFICATE, tls->client_credentials_); rv < 0) {
    why = "gnutls_credentials_set: " + gnutls_text(rv);
    return nullptr;
  }
  gnutls_session_set_verify_function(tls->session_, verify_trampoline);
  // SNI carries host names only; an address literal is checked but not sent.
  if (!check.server_name.empty() && !is_ip_literal(check.server_name))
    gnutls_server_name_set(tls->session_, GNUTLS_NAME_DNS, check.server_name.data(), check.server_name.size());
  return tls;
}

std::unique_ptr<TlsSession> TlsSession::server(std::shared_ptr<ServerCredentials> credentials,
                                               ngtcp2_crypto_get_conn get_conn, void* user_data, std::string& why) {
  std::unique_ptr<TlsSession> tls(new TlsSession());
  tls->server_credentials_ = std::move(credentials);
  // No session tickets: the connector always makes a full handshake.
  if (!tls->init(GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET | GNUTLS_NO_END_OF_EARLY_DATA, get_conn, user_data, why))
    return nullptr;
  if (int rv = gnutls_credentials_set(tls->session_, GNUTLS_CRD_CERTIFICATE, tls->server_credentials_->native());
      rv < 0) {
    why = "gnutls_credentials_set: " + gnutls_text(rv);
    return nullptr;
  }
  gnutls_handshake_set_hook_function(tls->session_, GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_POST, client_hello_hook);
  return tls;
}

TlsSession::~TlsSession() {
  if (session_) gnutls_deinit(session_);
  if (client_credentials_) gnutls_certificate_free_credentials(client_credentials_);
}

bool TlsSession::alpn_agreed() const { return selected_alpn_is_ours(session_); }

int TlsSession::verify_peer() {
  // The one check every transport makes (warren/sdk/tls_verification.hpp).
  return sdk::tls::verify_edge_certificate(session_, check_.verify, check_.server_name, refusal_);
}

}  // namespace warren::quic

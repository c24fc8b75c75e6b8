#include "tls_channel.hpp"

#include <cerrno>
#include <cstring>

namespace warren::http2 {
namespace {

using sdk::tls::gnutls_text;

// TLS 1.3 only.
constexpr char priority[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3";

gnutls_datum_t alpn_datum() {
  return {reinterpret_cast<unsigned char*>(const_cast<char*>(alpn_protocol)),
          static_cast<unsigned>(sizeof(alpn_protocol) - 1)};
}

bool selected_alpn_is_ours(gnutls_session_t session) {
  gnutls_datum_t selected{};
  if (gnutls_alpn_get_selected_protocol(session, &selected) != 0) return false;
  return selected.size == sizeof(alpn_protocol) - 1 && std::memcmp(selected.data, alpn_protocol, selected.size) == 0;
}

int verify_trampoline(gnutls_session_t session) {
  return static_cast<TlsChannel*>(gnutls_session_get_ptr(session))->verify_peer();
}

int client_hello_hook(gnutls_session_t session, unsigned, unsigned, unsigned, const gnutls_datum_t*) {
  // A client that offers no ALPN at all skips GnuTLS's own mandatory check.
  return selected_alpn_is_ours(session) ? 0 : GNUTLS_E_NO_APPLICATION_PROTOCOL;
}

}  // namespace

bool TlsChannel::init(unsigned flags, std::string& why) {
  if (int rv = gnutls_init(&session_, flags); rv < 0) {
    session_ = nullptr;
    why = "gnutls_init: " + gnutls_text(rv);
    return false;
  }
  if (int rv = gnutls_priority_set_direct(session_, priority, nullptr); rv < 0) {
    why = "gnutls_priority_set_direct: " + gnutls_text(rv);
    return false;
  }
  if (int rv = gnutls_credentials_set(session_, GNUTLS_CRD_CERTIFICATE, credentials_->native()); rv < 0) {
    why = "gnutls_credentials_set: " + gnutls_text(rv);
    return false;
  }
  gnutls_session_set_ptr(session_, this);
  gnutls_transport_set_ptr(session_, this);
  gnutls_transport_set_pull_function(session_, &TlsChannel::pull);
  gnutls_transport_set_push_function(session_, &TlsChannel::push);
  bool server = (flags & GNUTLS_SERVER) != 0;
  gnutls_datum_t alpn = alpn_datum();
  unsigned alpn_flags = GNUTLS_ALPN_MANDATORY | (server ? GNUTLS_ALPN_SERVER_PRECEDENCE : 0);
  if (int rv = gnutls_alpn_set_protocols(session_, &alpn, 1, alpn_flags); rv < 0) {
    why = "gnutls_alpn_set_protocols: " + gnutls_text(rv);
    return false;
  }
  return true;
}

std::unique_ptr<TlsChannel> TlsChannel::client(const sdk::EdgeVerification& verify, const std::string& server_name,
                                               std::string& why) {
  std::unique_ptr<TlsChannel> tls(new TlsChannel());
  tls->verify_ = verify;
  tls->server_name_ = server_name;
  tls->credentials_ = sdk::tls::Credentials::client(verify, why);
  if (!tls->credentials_ || !tls->init(GNUTLS_CLIENT, why)) return nullptr;
  gnutls_session_set_verify_function(tls->session_, verify_trampoline);
  // SNI carries host names only; an address literal is checked but not sent.
  if (!server_name.empty() && !sdk::tls::is_ip_literal(server_name))
    gnutls_server_name_set(tls->session_, GNUTLS_NAME_DNS, server_name.data(), server_name.size());
  return tls;
}

std::unique_ptr<TlsChannel> TlsChannel::server(std::shared_ptr<sdk::tls::Credentials> credentials, std::string& why) {
  std::unique_ptr<TlsChannel> tls(new TlsChannel());
  tls->credentials_ = std::move(credentials);
  // No session tickets: the connector always makes a full handshake.
  if (!tls->init(GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET, why)) return nullptr;
  gnutls_handshake_set_hook_function(tls->session_, GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_POST, client_hello_hook);
  return tls;
}

TlsChannel::~TlsChannel() {
  if (session_) gnutls_deinit(session_);
}

int TlsChannel::verify_peer() { return sdk::tls::verify_edge_certificate(session_, verify_, server_name_, refusal_); }

ssize_t TlsChannel::pull(gnutls_transport_ptr_t self, void* data, std::size_t size) {
  auto* tls = static_cast<TlsChannel*>(self);
  std::size_t available = tls->in_.size() - tls->in_pos_;
  if (available == 0) {
    gnutls_transport_set_errno(tls->session_, EAGAIN);
    return -1;
  }
  std::size_t n = std::min(size, available);
  std::memcpy(data, tls->in_.data() + tls->in_pos_, n);
  tls->in_pos_ += n;
  if (tls->in_pos_ == tls->in_.size()) {
    tls->in_.clear();
    tls->in_pos_ = 0;
  }
  return static_cast<ssize_t>(n);
}

ssize_t TlsChannel::push(gnutls_transport_ptr_t self, const void* data, std::size_t size) {
  auto* tls = static_cast<TlsChannel*>(self);
  auto* bytes = static_cast<const std::uint8_t*>(data);
  tls->out_.insert(tls->out_.end(), bytes, bytes + size);
  return static_cast<ssize_t>(size);
}

void TlsChannel::feed(const std::uint8_t* data, std::size_t size) {
  if (in_pos_ > 0 && in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  }
  in_.insert(in_.end(), data, data + size);
}

TlsChannel::Step TlsChannel::handshake() {
  for (;;) {
    int rv = gnutls_handshake(session_);
    if (rv == GNUTLS_E_SUCCESS) {
      if (!selected_alpn_is_ours(session_)) {
        error_ = std::string("the peer does not speak ") + alpn_protocol + " (ALPN)";
        return Step::failed;
      }
      return Step::done;
    }
    if (rv == GNUTLS_E_AGAIN || rv == GNUTLS_E_INTERRUPTED) return Step::again;
    if (!gnutls_error_is_fatal(rv)) continue;
    error_ = refusal_.empty() ? "TLS handshake failed: " + gnutls_text(rv) : refusal_;
    return Step::failed;
  }
}

TlsChannel::Read TlsChannel::read(std::vector<std::uint8_t>& plain) {
  std::uint8_t buffer[16 * 1024 + 256];
  for (;;) {
    ssize_t n = gnutls_record_recv(session_, buffer, sizeof buffer);
    if (n > 0) {
      plain.insert(plain.end(), buffer, buffer + n);
      continue;
    }
    if (n == 0) return Read::closed;
    if (n == GNUTLS_E_AGAIN) return Read::more;
    if (n == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal(static_cast<int>(n))) continue;
    error_ = "TLS: " + gnutls_text(static_cast<int>(n));
    return Read::failed;
  }
}

bool TlsChannel::write(const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = gnutls_record_send(session_, data, size);
    if (n < 0) {
      if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) continue;  // push never blocks: cannot loop forever
      error_ = "TLS: " + gnutls_text(static_cast<int>(n));
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

void TlsChannel::bye() { gnutls_bye(session_, GNUTLS_SHUT_WR); }

}  // namespace warren::http2

#pragma once
// GnuTLS for QUIC: TLS 1.3 only, ALPN "warren/1", and the client's check of
// the edge certificate (SHA-256 pin, CA bundle, or loudly nothing).

#include <ngtcp2/ngtcp2_crypto.h>

#include <warren/sdk/transport.hpp>

#include <gnutls/gnutls.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace warren::quic {

inline constexpr char alpn_protocol[] = "warren/1";

/// How the client checks the server: the dial's sdk::EdgeVerification (pins,
/// CA file or insecure) and the name it expects.
struct PeerCheck {
  sdk::EdgeVerification verify;
  std::string server_name;  ///< SNI and the name a CA-signed certificate must carry
};

/// A certificate and key for a listener, shared by all its connections.
class ServerCredentials {
 public:
  /// Parses PEM text; null with `why` set if GnuTLS refuses it.
  static std::shared_ptr<ServerCredentials> load(const std::string& cert_pem, const std::string& key_pem,
                                                 std::string& why);
  ~ServerCredentials();
  ServerCredentials(const ServerCredentials&) = delete;
  ServerCredentials& operator=(const ServerCredentials&) = delete;
  gnutls_certificate_credentials_t native() const { return credentials_; }

 private:
  ServerCredentials() = default;
  gnutls_certificate_credentials_t credentials_ = nullptr;
};

class TlsSession;

/// What GnuTLS keeps as its session pointer: ngtcp2_crypto needs the conn_ref
/// first, and the verify callback needs the session object.
struct TlsAnchor {
  ngtcp2_crypto_conn_ref conn_ref;
  TlsSession* owner;
};

/// One connection's TLS session. It must outlive nothing but itself: the
/// ngtcp2_crypto_conn_ref that GnuTLS hands back to ngtcp2 lives inside it.
class TlsSession {
 public:
  /// `get_conn` and `user_data` fill the ngtcp2_crypto_conn_ref that lets
  /// ngtcp2_crypto find the connection from the GnuTLS session.
  static std::unique_ptr<TlsSession> client(const PeerCheck& check, ngtcp2_crypto_get_conn get_conn, void* user_data,
                                            std::string& why);
  static std::unique_ptr<TlsSession> server(std::shared_ptr<ServerCredentials> credentials,
                                            ngtcp2_crypto_get_conn get_conn, void* user_data, std::string& why);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  gnutls_session_t native() const { return session_; }
  /// True when the handshake failed because the peer's certificate was refused.
  bool certificate_refused() const { return !refusal_.empty(); }
  /// Why the certificate was refused ("" if it was not).
  const std::string& refusal() const { return refusal_; }
  /// True once the peer agreed on our ALPN.
  bool alpn_agreed() const;

  /// Called by GnuTLS during the handshake; returns 0 to accept the peer.
  int verify_peer();

 private:
  TlsSession() = default;
  bool init(unsigned flags, ngtcp2_crypto_get_conn get_conn, void* user_data, std::string& why);

  TlsAnchor anchor_{};
  gnutls_session_t session_ = nullptr;
  gnutls_certificate_credentials_t client_credentials_ = nullptr;
  std::shared_ptr<ServerCredentials> server_credentials_;
  PeerCheck check_;
  std::string refusal_;
};

}  // namespace warren::quic

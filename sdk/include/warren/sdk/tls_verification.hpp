#pragma once
// TLS for transport authors, on GnuTLS: the connector's check of the edge
// certificate (SHA-256 pin, CA bundle, or loudly nothing: sdk::EdgeVerification)
// and the listener's certificate and key. Every transport checks the edge
// the same way with these, so a pin or CA file means the same thing over
// QUIC and HTTP/2. Header-only: a plugin using it links GnuTLS itself.

#include <warren/sdk/certificate_pin.hpp>
#include <warren/sdk/transport.hpp>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <arpa/inet.h>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace warren::sdk::tls {

/// True for "127.0.0.1" or "::1": a name SNI must not carry (RFC 6066 §3).
inline bool is_ip_literal(const std::string& name) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, name.c_str(), buffer) == 1 || inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

inline std::string gnutls_text(int rv) { return std::string(gnutls_strerror(rv)); }

/// Compares without an early exit (GnuTLS's constant-time gnutls_memcmp), so
/// timing says nothing about the pin.
inline bool equal_constant_time(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) {
  return gnutls_memcmp(a, b, n) == 0;
}

/// "sha256:a or sha256:b": the pins as an operator wrote them.
inline std::string pins_text(const std::vector<CertificatePin>& pins) {
  std::string out;
  for (const auto& pin : pins) out += (out.empty() ? "" : " or ") + format_certificate_pin(pin);
  return out;
}

/// Checks the edge's certificate chain on `session` (a client session whose
/// handshake has the peer's certificates, i.e. from a verify function set
/// with gnutls_session_set_verify_function) against `verify`; a CA-signed
/// certificate must carry `server_name`. Returns 0 to accept, or
/// GNUTLS_E_CERTIFICATE_ERROR with `refusal` saying why in an operator's
/// words (both pins when they differ). The transport maps a refusal to
/// errc::certificate_mismatch.
inline int verify_edge_certificate(gnutls_session_t session, const EdgeVerification& verify,
                                   const std::string& server_name, std::string& refusal) {
  if (verify.insecure) return 0;
  unsigned count = 0;
  const gnutls_datum_t* chain = gnutls_certificate_get_peers(session, &count);
  if (!chain || count == 0) {
    refusal = "the edge sent no certificate";
    return GNUTLS_E_CERTIFICATE_ERROR;
  }
  if (auto pins = verify.accepted_pins(); !pins.empty()) {
    std::array<std::uint8_t, 32> actual{};
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, chain[0].data, chain[0].size, actual.data()) < 0) {
      refusal = "cannot hash the edge certificate";
      return GNUTLS_E_CERTIFICATE_ERROR;
    }
    bool matched = false;  // every pin compared: no early exit
    for (const auto& pin : pins) matched = equal_constant_time(actual.data(), pin.data(), actual.size()) || matched;
    if (!matched) {
      refusal = "the edge's certificate does not match edge_fingerprint: expected " + pins_text(pins) + ", got " +
                format_certificate_pin(actual);
      return GNUTLS_E_CERTIFICATE_ERROR;
    }
    return 0;
  }
  unsigned status = 0;
  const char* host = server_name.empty() ? nullptr : server_name.c_str();
  if (int rv = gnutls_certificate_verify_peers3(session, host, &status); rv < 0) {
    refusal = "cannot verify the edge certificate: " + gnutls_text(rv);
    return GNUTLS_E_CERTIFICATE_ERROR;
  }
  if (status != 0) {
    gnutls_datum_t text{};
    std::string reason = "untrusted";
    if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) == 0) {
      reason.assign(reinterpret_cast<const char*>(text.data), text.size);
      gnutls_free(text.data);
    }
    refusal =
        "the edge's certificate is refused by edge_ca '" + verify.ca_file + "' for '" + server_name + "': " + reason;
    return GNUTLS_E_CERTIFICATE_ERROR;
  }
  return 0;
}

/// Certificate credentials, freed with their owner.
class Credentials {
 public:
  Credentials() = default;
  ~Credentials() {
    if (credentials_) gnutls_certificate_free_credentials(credentials_);
  }
  Credentials(const Credentials&) = delete;
  Credentials& operator=(const Credentials&) = delete;
  gnutls_certificate_credentials_t native() const { return credentials_; }

  /// A listener's certificate (leaf first, then chain) and key, as PEM text;
  /// null with `why` set if GnuTLS refuses them. Shared by all its connections.
  static std::shared_ptr<Credentials> server(const std::string& cert_pem, const std::string& key_pem,
                                             std::string& why) {
    auto result = std::make_shared<Credentials>();
    if (!result->allocate(why)) return nullptr;
    gnutls_datum_t cert{reinterpret_cast<unsigned char*>(const_cast<char*>(cert_pem.data())),
                        static_cast<unsigned>(cert_pem.size())};
    gnutls_datum_t key{reinterpret_cast<unsigned char*>(const_cast<char*>(key_pem.data())),
                       static_cast<unsigned>(key_pem.size())};
    if (int rv =
            gnutls_certificate_set_x509_key_mem2(result->credentials_, &cert, &key, GNUTLS_X509_FMT_PEM, nullptr, 0);
        rv < 0) {
      why = "the listener's certificate or key is unusable: " + gnutls_text(rv);
      return nullptr;
    }
    return result;
  }

  /// A connector's trust: the CA file when `verify` names one (and no pin);
  /// null with `why` set if the file gives no certificate.
  static std::shared_ptr<Credentials> client(const EdgeVerification& verify, std::string& why) {
    auto result = std::make_shared<Credentials>();
    if (!result->allocate(why)) return nullptr;
    if (!verify.insecure && verify.accepted_pins().empty() && !verify.ca_file.empty()) {
      int count =
          gnutls_certificate_set_x509_trust_file(result->credentials_, verify.ca_file.c_str(), GNUTLS_X509_FMT_PEM);
      if (count <= 0) {
        why = "cannot read CA file '" + verify.ca_file + "': " + (count < 0 ? gnutls_text(count) : "no certificates");
        return nullptr;
      }
    }
    return result;
  }

 private:
  bool allocate(std::string& why) {
    if (int rv = gnutls_certificate_allocate_credentials(&credentials_); rv < 0) {
      credentials_ = nullptr;
      why = "cannot allocate TLS credentials: " + gnutls_text(rv);
      return false;
    }
    return true;
  }
  gnutls_certificate_credentials_t credentials_ = nullptr;
};

}  // namespace warren::sdk::tls

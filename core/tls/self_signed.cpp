#include "core/tls/self_signed.hpp"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <arpa/inet.h>

#include <ctime>
#include <memory>
#include <stdexcept>

namespace warren::core {
namespace {

void check(int rv, const char* step) {
  if (rv < 0) throw std::runtime_error(std::string(step) + ": " + gnutls_strerror(rv));
}

struct Datum {
  gnutls_datum_t d{};
  ~Datum() { gnutls_free(d.data); }
  std::string text() const { return std::string(reinterpret_cast<const char*>(d.data), d.size); }
};

using Key = std::unique_ptr<gnutls_x509_privkey_int, decltype(&gnutls_x509_privkey_deinit)>;
using Cert = std::unique_ptr<gnutls_x509_crt_int, decltype(&gnutls_x509_crt_deinit)>;

void add_name(gnutls_x509_crt_t crt, const std::string& name) {
  unsigned char ip[16];
  if (inet_pton(AF_INET, name.c_str(), ip) == 1) {
    check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 4, GNUTLS_FSAN_APPEND), "IP SAN");
  } else if (inet_pton(AF_INET6, name.c_str(), ip) == 1) {
    check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 16, GNUTLS_FSAN_APPEND), "IP SAN");
  } else {
    check(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name.data(),
                                               static_cast<unsigned>(name.size()), GNUTLS_FSAN_APPEND),
          "DNS SAN");
  }
}

}  // namespace

SelfSignedPair make_self_signed(const std::string& common_name, const std::vector<std::string>& names,
                                std::chrono::hours validity) {
  gnutls_x509_privkey_t raw_key;
  check(gnutls_x509_privkey_init(&raw_key), "privkey_init");
  Key key(raw_key, gnutls_x509_privkey_deinit);
  check(gnutls_x509_privkey_generate(key.get(), GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
        "privkey_generate");

  gnutls_x509_crt_t raw_crt;
  check(gnutls_x509_crt_init(&raw_crt), "crt_init");
  Cert crt(raw_crt, gnutls_x509_crt_deinit);
  check(gnutls_x509_crt_set_version(crt.get(), 3), "set_version");
  unsigned char serial[16];
  check(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)), "serial");
  serial[0] &= 0x7f;  // a positive INTEGER
  check(gnutls_x509_crt_set_serial(crt.get(), serial, sizeof(serial)), "set_serial");
  std::time_t now = std::time(nullptr);
  check(gnutls_x509_crt_set_activation_time(crt.get(), now - 3600), "activation_time");
  check(gnutls_x509_crt_set_expiration_time(
            crt.get(), now + std::chrono::duration_cast<std::chrono::seconds>(validity).count()),
        "expiration_time");
  check(gnutls_x509_crt_set_dn_by_oid(crt.get(), GNUTLS_OID_X520_COMMON_NAME, 0, common_name.data(),
                                      static_cast<unsigned>(common_name.size())),
        "common name");
  for (const auto& name : names) add_name(crt.get(), name);
  check(gnutls_x509_crt_set_key(crt.get(), key.get()), "set_key");
  // Its own trust anchor: a CA file holding just this certificate verifies it.
  check(gnutls_x509_crt_set_basic_constraints(crt.get(), 1, -1), "basic_constraints");
  check(gnutls_x509_crt_set_key_usage(crt.get(), GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_CERT_SIGN),
        "key_usage");
  check(gnutls_x509_crt_set_key_purpose_oid(crt.get(), GNUTLS_KP_TLS_WWW_SERVER, 0), "key_purpose");
  unsigned char key_id[64];
  std::size_t key_id_size = sizeof(key_id);
  check(gnutls_x509_crt_get_key_id(crt.get(), GNUTLS_KEYID_USE_SHA1, key_id, &key_id_size), "key_id");
  check(gnutls_x509_crt_set_subject_key_id(crt.get(), key_id, key_id_size), "subject_key_id");
  check(gnutls_x509_crt_sign2(crt.get(), crt.get(), key.get(), GNUTLS_DIG_SHA256, 0), "sign");

  SelfSignedPair pair;
  Datum cert_pem, cert_der, key_pem;
  check(gnutls_x509_crt_export2(crt.get(), GNUTLS_X509_FMT_PEM, &cert_pem.d), "export cert");
  check(gnutls_x509_crt_export2(crt.get(), GNUTLS_X509_FMT_DER, &cert_der.d), "export DER");
  check(gnutls_x509_privkey_export2_pkcs8(key.get(), GNUTLS_X509_FMT_PEM, nullptr, GNUTLS_PKCS_PLAIN, &key_pem.d),
        "export key");
  check(gnutls_hash_fast(GNUTLS_DIG_SHA256, cert_der.d.data, cert_der.d.size, pair.pin_sha256.data()), "pin");
  pair.cert_pem = cert_pem.text();
  pair.key_pem = key_pem.text();
  return pair;
}

}  // namespace warren::core

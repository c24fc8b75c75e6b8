#pragma once
// Makes a self-signed ECDSA P-256 certificate and key in memory with GnuTLS:
// what an edge uses when no cert is configured, and what tests use.

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace warren::core {

struct SelfSignedPair {
  std::string cert_pem;
  std::string key_pem;                      ///< unencrypted PKCS#8
  std::array<std::uint8_t, 32> pin_sha256;  ///< SHA-256 of the DER certificate
};

/// `names` become subjectAltNames: IP literals as addresses, others as DNS
/// names. Valid from one hour ago for `validity`. Throws std::runtime_error
/// if GnuTLS refuses a step.
SelfSignedPair make_self_signed(const std::string& common_name, const std::vector<std::string>& names,
                                std::chrono::hours validity = std::chrono::hours(24 * 365));

}  // namespace warren::core

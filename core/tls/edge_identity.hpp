#pragma once
// The edge's certificate and key: the configured files, or a self-signed
// pair made once and kept in state_dir so its pin stays the same across
// restarts (connectors pinned to it keep working).

#include <warren/sdk/certificate_pin.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace warren::core {

struct EdgeIdentity {
  std::string cert_pem;
  std::string key_pem;
  sdk::CertificatePin pin;  ///< of the leaf (first) certificate
  std::filesystem::path cert_file;
  bool generated = false;  ///< made by this start
};

/// SHA-256 of the DER form of the first certificate in `pem`; nullopt if none parses.
std::optional<sdk::CertificatePin> pin_of_pem(const std::string& pem);

/// Reads `cert` and `key`. Throws std::runtime_error naming the file on failure.
EdgeIdentity load_identity(const std::filesystem::path& cert, const std::filesystem::path& key);

/// Loads state_dir/edge.crt + edge.key, or makes them (key file mode 0600)
/// for `common_name` and `names` (subjectAltNames) if they do not exist.
EdgeIdentity load_or_make_identity(const std::filesystem::path& state_dir, const std::string& common_name,
                                   const std::vector<std::string>& names);

}  // namespace warren::core

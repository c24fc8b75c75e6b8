#include "core/edge/token_check.hpp"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <stdexcept>

namespace warren::core {

TokenDigest token_digest(std::string_view text) {
  TokenDigest digest{};
  if (gnutls_hash_fast(GNUTLS_DIG_SHA256, text.data(), text.size(), digest.data()) < 0)
    throw std::runtime_error("GnuTLS cannot compute SHA-256");  // only without a working crypto backend
  return digest;
}

// A digest no token hashes to (as far as anyone knows): all zeros.
TokenSet::TokenSet() : digests_(1, TokenDigest{}) {}

TokenSet::TokenSet(const std::vector<std::string>& tokens) {
  for (const auto& t : tokens)
    if (!t.empty()) digests_.push_back(token_digest(t));
}

bool TokenSet::accepts(std::string_view presented) const {
  TokenDigest digest = token_digest(presented);
  bool matched = false;
  for (const auto& d : digests_) matched = (gnutls_memcmp(d.data(), digest.data(), d.size()) == 0) | matched;
  return matched && !presented.empty();
}

}  // namespace warren::core

#pragma once
// The edge's check of a registration's token against a tunnel's accepted
// tokens (one, or several while a token is rotated). A wrong token must
// cost the edge the same time whatever it shares with a right one, so a
// guesser learns nothing from timing: the presented token is hashed once
// (SHA-256) and its digest compared with every accepted token's digest by
// GnuTLS's constant-time gnutls_memcmp, with no early exit.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace warren::core {

using TokenDigest = std::array<std::uint8_t, 32>;

/// SHA-256 of `text` (gnutls_hash_fast).
TokenDigest token_digest(std::string_view text);

class TokenSet {
 public:
  /// Accepts nothing: stands in for an unknown tunnel id, so refusing one
  /// costs what refusing a wrong token does (no probing for ids by timing).
  TokenSet();
  /// Accepts each of `tokens`; empty strings are skipped (nobody's secret).
  explicit TokenSet(const std::vector<std::string>& tokens);

  /// True if `presented` is one of the tokens. Time depends on the length of
  /// `presented` and the number of tokens only: every digest is compared.
  bool accepts(std::string_view presented) const;
  std::size_t size() const { return digests_.size(); }

 private:
  std::vector<TokenDigest> digests_;
};

}  // namespace warren::core

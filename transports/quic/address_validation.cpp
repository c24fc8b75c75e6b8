#include "address_validation.hpp"

#include <ngtcp2/ngtcp2_crypto.h>

#include <gnutls/crypto.h>

namespace warren::quic {

bool AddressValidator::init() { return gnutls_rnd(GNUTLS_RND_KEY, secret_.data(), secret_.size()) == 0; }

std::size_t AddressValidator::write_retry(std::uint8_t* out, const ngtcp2_pkt_hd& hd, const udp::endpoint& from,
                                          ngtcp2_tstamp now) const {
  ngtcp2_cid retry_scid;
  if (!random_cid(retry_scid, cid_length)) return 0;
  std::array<std::uint8_t, NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN> token;
  ngtcp2_ssize token_len = ngtcp2_crypto_generate_retry_token(
      token.data(), secret_.data(), secret_.size(), hd.version, reinterpret_cast<const ngtcp2_sockaddr*>(from.data()),
      static_cast<ngtcp2_socklen>(from.size()), &retry_scid, &hd.dcid, now);
  if (token_len < 0) return 0;
  ngtcp2_ssize n = ngtcp2_crypto_write_retry(out, max_reply, hd.version, &hd.scid, &retry_scid, &hd.dcid, token.data(),
                                             static_cast<std::size_t>(token_len));
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

bool AddressValidator::has_retry_token(const ngtcp2_pkt_hd& hd) {
  return hd.token.len > 0 && hd.token.base[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY;
}

std::optional<ngtcp2_cid> AddressValidator::verify(const ngtcp2_pkt_hd& hd, const udp::endpoint& from,
                                                   ngtcp2_tstamp now) const {
  if (!has_retry_token(hd)) return std::nullopt;
  ngtcp2_cid original_dcid;
  if (ngtcp2_crypto_verify_retry_token(&original_dcid, hd.token.base, hd.token.len, secret_.data(), secret_.size(),
                                       hd.version, reinterpret_cast<const ngtcp2_sockaddr*>(from.data()),
                                       static_cast<ngtcp2_socklen>(from.size()), &hd.dcid, token_lifetime, now) != 0)
    return std::nullopt;
  return original_dcid;
}

std::size_t AddressValidator::write_invalid_token_close(std::uint8_t* out, const ngtcp2_pkt_hd& hd) {
  ngtcp2_ssize n = ngtcp2_crypto_write_connection_close(out, max_reply, hd.version, &hd.scid, &hd.dcid,
                                                        NGTCP2_INVALID_TOKEN, nullptr, 0);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

}  // namespace warren::quic

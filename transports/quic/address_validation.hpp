#pragma once
// Stateless address validation (RFC 9000 §8.1): Retry packets whose token
// seals the client's address, its original DCID and a timestamp under a
// secret that lives only in this listener (random per listener, so a
// restart invalidates old tokens, which a client survives by starting
// over). All the cryptography is ngtcp2_crypto's.

#include "udp_endpoint.hpp"

#include <ngtcp2/ngtcp2.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace warren::quic {

class AddressValidator {
 public:
  /// How long a Retry token is honoured after we sent it.
  static constexpr ngtcp2_duration token_lifetime = 10ULL * NGTCP2_SECONDS;

  /// Draws the secret; false (and unusable) if the generator failed.
  bool init();

  /// Writes a Retry answering the Initial `hd` from `from` into `out`
  /// (at least max_reply bytes); its size, or 0 if it could not be made.
  std::size_t write_retry(std::uint8_t* out, const ngtcp2_pkt_hd& hd, const udp::endpoint& from,
                          ngtcp2_tstamp now) const;
  /// True if `hd` carries a Retry token (valid or not) rather than none.
  static bool has_retry_token(const ngtcp2_pkt_hd& hd);
  /// The original DCID sealed in `hd`'s Retry token if the token is ours,
  /// fresh and was issued to `from` for this DCID; else nullopt.
  std::optional<ngtcp2_cid> verify(const ngtcp2_pkt_hd& hd, const udp::endpoint& from, ngtcp2_tstamp now) const;
  /// Writes the Initial with CONNECTION_CLOSE(INVALID_TOKEN) that answers a
  /// bad token without keeping any state; its size, or 0.
  static std::size_t write_invalid_token_close(std::uint8_t* out, const ngtcp2_pkt_hd& hd);

  /// Room write_retry and write_invalid_token_close need.
  static constexpr std::size_t max_reply = 1200;

 private:
  std::array<std::uint8_t, 32> secret_{};
};

}  // namespace warren::quic

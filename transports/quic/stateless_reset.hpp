#pragma once
// Stateless resets (RFC 9000 §10.3): the edge's answer to a packet for a
// connection it does not know (it restarted, or the connection is long
// gone), so the peer ends that connection at once instead of waiting out
// its idle or heartbeat timeout.
//
// Every connection ID the edge issues carries a token derived from that ID
// and one static secret (HKDF, ngtcp2_crypto_generate_stateless_reset_token,
// as ngtcp2's examples do); a reset for an unknown ID carries the token
// derived the same way, which the peer compares with the one it was given.
// The secret is kept in the edge's state_dir, so tokens outlive a restart.

#include <ngtcp2/ngtcp2.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace warren::quic {

class StatelessReset {
 public:
  using Ptr = std::shared_ptr<const StatelessReset>;
  static constexpr std::size_t secret_size = 32;
  /// The secret's file in state_dir: 32 random bytes, mode 0600.
  static constexpr const char* file_name = "quic_reset_secret";

  /// The secret from `state_dir`/file_name, made there (folder included)
  /// if absent. An empty `state_dir` draws a secret that dies with the
  /// process. Null with `why` set when the file cannot be made or read, or
  /// is not secret_size bytes; `note` gets a line worth logging (a file
  /// others can read), else stays empty.
  static Ptr load_or_create(const std::filesystem::path& state_dir, std::string& why, std::string& note);
  /// A secret given as is (tests).
  explicit StatelessReset(const std::array<std::uint8_t, secret_size>& secret) : secret_(secret) {}

  /// The token for a connection ID we issue; false if HKDF failed.
  bool token(const ngtcp2_cid& cid, std::uint8_t* token) const;

  /// Smallest datagram answered: a short header, our connection ID and 21
  /// bytes (the least a reset can be while still one byte shorter), as
  /// ngtcp2's example server decides.
  static constexpr std::size_t min_trigger(std::size_t id_length) { return id_length + 21; }
  /// Room write() needs.
  static constexpr std::size_t max_size = 1 + NGTCP2_MAX_CIDLEN + 21;
  /// Writes a reset answering a short-header datagram of `trigger_len`
  /// bytes for `dcid` into `out` (max_size bytes): always shorter than the
  /// trigger (§10.3.3: no loops, no amplification). Its size, or 0 when the
  /// trigger is too small to answer or the random bytes failed.
  std::size_t write(std::uint8_t* out, std::size_t trigger_len, const ngtcp2_cid& dcid) const;

 private:
  std::array<std::uint8_t, secret_size> secret_{};
};

}  // namespace warren::quic

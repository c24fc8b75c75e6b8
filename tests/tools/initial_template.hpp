#pragma once
// A real client's first QUIC Initial (a ClientHello offering ALPN warren/1),
// made once by ngtcp2 + GnuTLS and kept as plaintext, then re-protected
// under a fresh Destination Connection ID for every packet: each copy is an
// Initial a server cannot tell from a new client's without starting the
// handshake. Only the DCID changes; the SCID must stay, because the
// ClientHello's transport parameters name it (initial_source_connection_id).

#include <ngtcp2/ngtcp2.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace warren::tools {

class InitialTemplate {
 public:
  /// Runs a client handshake up to its first packet; throws std::runtime_error.
  InitialTemplate();

  /// Writes the Initial protected for a random DCID into `out` (room for
  /// `datagram_size` bytes); its size.
  std::size_t write(std::uint8_t* out);
  /// The same header with a random DCID but a payload of `random` bytes that
  /// no key decrypts: far cheaper to make, so a flood can go much faster.
  std::size_t write_junk(std::uint8_t* out, std::uint64_t& random);

  static constexpr std::size_t datagram_size = 1200;  ///< the minimum a server must accept

 private:
  std::vector<std::uint8_t> plaintext_;  ///< frames: CRYPTO(ClientHello) + PADDING
  ngtcp2_cid scid_{};
};

}  // namespace warren::tools

#pragma once
// Connection IDs as hash-map keys, so one UDP socket can serve many
// connections: every packet is routed by its destination connection ID.

#include <ngtcp2/ngtcp2.h>

#include <gnutls/crypto.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string_view>

namespace warren::quic {

/// Length of the connection IDs this endpoint issues. Fixed, because a
/// short-header packet does not say how long its DCID is.
inline constexpr std::size_t cid_length = 16;

struct CidKey {
  std::uint8_t length = 0;
  std::array<std::uint8_t, NGTCP2_MAX_CIDLEN> bytes{};

  CidKey() = default;
  CidKey(const std::uint8_t* data, std::size_t len) : length(static_cast<std::uint8_t>(len)) {
    std::memcpy(bytes.data(), data, len);
  }
  explicit CidKey(const ngtcp2_cid& cid) : CidKey(cid.data, cid.datalen) {}

  friend bool operator==(const CidKey& a, const CidKey& b) {
    return a.length == b.length && std::memcmp(a.bytes.data(), b.bytes.data(), a.length) == 0;
  }
};

struct CidKeyHash {
  std::size_t operator()(const CidKey& k) const noexcept {
    // IDs are random bytes already; hashing the view is enough.
    return std::hash<std::string_view>{}(std::string_view(reinterpret_cast<const char*>(k.bytes.data()), k.length));
  }
};

/// Fills `cid` with `length` random bytes; false if the generator failed.
inline bool random_cid(ngtcp2_cid& cid, std::size_t length) {
  cid.datalen = length;
  return gnutls_rnd(GNUTLS_RND_RANDOM, cid.data, length) == 0;
}

}  // namespace warren::quic

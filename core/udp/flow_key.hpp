#pragma once
// Who a UDP flow belongs to: the public client's (address, port), and on the
// connector the leg (edge) it came through, so two edges' clients never share
// a flow. And the "source" the per-source cap counts: an IPv4 address, or an
// IPv6 /64 (one subscriber's usual allocation, RFC 6177), IPv4-mapped IPv6
// counted as the IPv4 address it maps.

#include <boost/asio/ip/udp.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace warren::core::udp {

/// A flow id, assigned by the FlowTable that owns the flow: 1, 2, 3, ...
/// never reused by that table (0 is never a flow).
using FlowId = std::uint64_t;

struct FlowKey {
  std::uint32_t origin = 0;                 ///< 0 on the edge; the leg/edge index on the connector
  boost::asio::ip::udp::endpoint client;    ///< the public client's address and port
  friend bool operator==(const FlowKey&, const FlowKey&) = default;
};

struct FlowKeyHash {
  std::size_t operator()(const FlowKey& key) const noexcept;
};

/// The per-source cap's unit: family + the first 4 (IPv4) or 8 (IPv6 /64)
/// address bytes, the rest zero.
struct SourcePrefix {
  std::uint8_t family = 0;  ///< 4 or 6
  std::array<std::uint8_t, 8> bytes{};
  friend bool operator==(const SourcePrefix&, const SourcePrefix&) = default;
};

struct SourcePrefixHash {
  std::size_t operator()(const SourcePrefix& prefix) const noexcept;
};

/// The source `address` counts against: IPv4 (and IPv4-mapped IPv6) as the
/// whole address, other IPv6 as its /64.
SourcePrefix source_prefix(const boost::asio::ip::address& address) noexcept;

}  // namespace warren::core::udp

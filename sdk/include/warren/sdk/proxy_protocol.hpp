#pragma once
// PROXY protocol headers (HAProxy's doc/proxy-protocol.txt, 2020/03/05): the
// few bytes a backend connection starts with so that the service behind a
// tunnel learns the public client's real address and port. Writers only,
// pure: no socket, no allocation once the addresses are read, no clock.
// Both the stream backends (tcp, unix) and the UDP backend build on it.
//
//   auto header = proxy_protocol::header(proxy_protocol::Version::v2, info.client_address, info.listener,
//                                        proxy_protocol::SocketType::stream);
//   boost::asio::async_write(socket, boost::asio::buffer(header.data(), header.size()), …);
//
// Endpoints are warren's "address:port" text (sdk/endpoint.hpp), IPv6 in
// brackets: "203.0.113.7:5555", "[2001:db8::1]:443". Only IP literals can be
// proxied; a name, a zone id ("fe80::1%eth0"), a malformed text, or a source
// and destination of different families make an "unknown" header (v1
// "PROXY UNKNOWN", v2 PROXY with family AF_UNSPEC), which receivers accept
// and treat as "use the real connection's addresses" (sections 2.1 and 2.2).

#include <warren/sdk/endpoint.hpp>

#include <arpa/inet.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace warren::sdk::proxy_protocol {

enum class Version : std::uint8_t { v1, v2 };

/// The proxied connection's socket type (section 2.2, low nibble of the 14th
/// byte): STREAM for TCP, DGRAM for UDP. Version 1 carries TCP only.
enum class SocketType : std::uint8_t { stream = 0x1, datagram = 0x2 };

/// The longest version 1 line a receiver must accept, CRLF included (section
/// 2.1: "PROXY UNKNOWN" + two full IPv6 addresses + two ports). The writer
/// emits at most 104 (TCP6); a receiver must not read past this many bytes.
inline constexpr std::size_t v1_max_length = 107;

/// Version 2's 12-byte signature (section 2.2); it contains a NUL byte.
inline constexpr std::array<std::uint8_t, 12> v2_signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                              0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
/// Signature, version/command, family/protocol and the 2-byte length.
inline constexpr std::size_t v2_fixed_length = 16;
/// Address block lengths (section 2.2): 2*4 + 2*2 and 2*16 + 2*2.
inline constexpr std::size_t v2_inet_block = 12;
inline constexpr std::size_t v2_inet6_block = 36;
/// 13th byte: version 2 in the high nibble; command LOCAL (0x0) or PROXY (0x1).
inline constexpr std::uint8_t v2_local = 0x20;
inline constexpr std::uint8_t v2_proxy = 0x21;
/// 14th byte, high nibble: AF_UNSPEC, AF_INET, AF_INET6 (section 2.2).
inline constexpr std::uint8_t v2_family_unspec = 0x00;
inline constexpr std::uint8_t v2_family_inet = 0x10;
inline constexpr std::uint8_t v2_family_inet6 = 0x20;

/// One header's bytes, held inline (no allocation): at most 107 for v1,
/// 16 + 36 = 52 for v2 (warren writes no TLVs). A value type; copy freely.
class HeaderBytes {
 public:
  const std::uint8_t* data() const noexcept { return bytes_.data(); }
  std::size_t size() const noexcept { return size_; }
  /// The bytes as text (v2 headers contain NUL bytes; the view keeps them).
  std::string_view view() const noexcept { return {reinterpret_cast<const char*>(bytes_.data()), size_}; }

  void push(std::uint8_t byte) noexcept {
    if (size_ < bytes_.size()) bytes_[size_++] = byte;
  }
  void push(std::string_view text) noexcept {
    for (char c : text) push(static_cast<std::uint8_t>(c));
  }
  void push(const std::uint8_t* bytes, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) push(bytes[i]);
  }
  void push_u16(std::uint16_t value) noexcept {  // network byte order
    push(static_cast<std::uint8_t>(value >> 8));
    push(static_cast<std::uint8_t>(value & 0xFF));
  }

 private:
  std::array<std::uint8_t, v1_max_length> bytes_{};
  std::size_t size_ = 0;
};

/// A source and destination of one family, in network byte order; for IPv4
/// only the first 4 bytes of each address are used.
struct ProxiedAddresses {
  enum class Family : std::uint8_t { inet, inet6 } family = Family::inet;
  std::array<std::uint8_t, 16> source{};
  std::array<std::uint8_t, 16> destination{};
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
};

namespace detail {

struct IpLiteral {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};
  std::uint16_t port = 0;

  /// ::ffff:a.b.c.d — an IPv4 client seen through a dual-stack socket.
  bool v4_mapped() const noexcept {
    if (!v6) return false;
    for (int i = 0; i < 10; ++i)
      if (bytes[i] != 0) return false;
    return bytes[10] == 0xFF && bytes[11] == 0xFF;
  }
  void unmap() noexcept {
    std::memmove(bytes.data(), bytes.data() + 12, 4);
    std::memset(bytes.data() + 4, 0, 12);
    v6 = false;
  }
};

inline std::optional<IpLiteral> parse_ip_endpoint(std::string_view text) {
  auto endpoint = parse_endpoint(text, nullptr, /*allow_port_zero=*/true);
  if (!endpoint) return std::nullopt;
  IpLiteral out;
  out.port = endpoint->port;
  if (inet_pton(AF_INET, endpoint->host.c_str(), out.bytes.data()) == 1) return out;
  if (inet_pton(AF_INET6, endpoint->host.c_str(), out.bytes.data()) == 1) {
    out.v6 = true;
    return out;
  }
  return std::nullopt;  // a name or a scoped address: nothing the header can carry
}

inline void push_decimal(HeaderBytes& out, unsigned value) noexcept {
  char digits[5];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0 && n < 5);
  while (n > 0) out.push(static_cast<std::uint8_t>(digits[--n]));
}

/// Section 2.1's canonical forms: dotted decimal with no leading zeroes;
/// IPv6 as lower-case hex groups with the longest run (two or more) of zero
/// groups as "::" (RFC 5952 section 4), never a dotted IPv4 tail.
inline void push_address(HeaderBytes& out, const std::array<std::uint8_t, 16>& a, bool v6) noexcept {
  if (!v6) {
    for (int i = 0; i < 4; ++i) {
      if (i) out.push('.');
      push_decimal(out, a[i]);
    }
    return;
  }
  std::uint16_t groups[8];
  for (int i = 0; i < 8; ++i) groups[i] = static_cast<std::uint16_t>(a[2 * i] << 8 | a[2 * i + 1]);
  int best = -1, best_len = 1;  // a single zero group is not compressed
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && groups[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j == i ? i + 1 : j;
  }
  static constexpr char hex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out.push("::");
      i += best_len - 1;
      continue;
    }
    if (i != 0 && i != best + best_len) out.push(':');
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      unsigned nibble = (groups[i] >> shift) & 0xF;
      if (nibble == 0 && !started && shift != 0) continue;  // no leading zeroes in a group
      out.push(static_cast<std::uint8_t>(hex[nibble]));
      started = true;
    }
  }
}

}  // namespace detail

/// Reads a source and a destination "address:port" into one family, or
/// nullopt when the header can only say "unknown": either is not an IP
/// literal with a port, or their families differ. An IPv4-mapped IPv6
/// address (::ffff:a.b.c.d) counts as IPv4 when the other side is IPv4 or
/// mapped too, so a dual-stack listener still sends TCP4. Throws only
/// std::bad_alloc.
inline std::optional<ProxiedAddresses> read_addresses(std::string_view source, std::string_view destination) {
  auto src = detail::parse_ip_endpoint(source);
  auto dst = detail::parse_ip_endpoint(destination);
  if (!src || !dst) return std::nullopt;
  bool src_v4 = !src->v6 || src->v4_mapped();
  bool dst_v4 = !dst->v6 || dst->v4_mapped();
  if (src_v4 && dst_v4) {
    if (src->v6) src->unmap();
    if (dst->v6) dst->unmap();
  }
  if (src->v6 != dst->v6) return std::nullopt;
  ProxiedAddresses out;
  out.family = src->v6 ? ProxiedAddresses::Family::inet6 : ProxiedAddresses::Family::inet;
  out.source = src->bytes;
  out.destination = dst->bytes;
  out.source_port = src->port;
  out.destination_port = dst->port;
  return out;
}

/// Version 1 (section 2.1): "PROXY TCP4 SRC DST SPORT DPORT\r\n" (or TCP6),
/// or the short "PROXY UNKNOWN\r\n" when `addresses` is empty. US-ASCII, at
/// most 104 bytes here (v1_max_length is the receiver's bound).
inline HeaderBytes write_v1(const std::optional<ProxiedAddresses>& addresses) noexcept {
  HeaderBytes out;
  if (!addresses) {
    out.push("PROXY UNKNOWN\r\n");
    return out;
  }
  bool v6 = addresses->family == ProxiedAddresses::Family::inet6;
  out.push(v6 ? "PROXY TCP6 " : "PROXY TCP4 ");
  detail::push_address(out, addresses->source, v6);
  out.push(' ');
  detail::push_address(out, addresses->destination, v6);
  out.push(' ');
  detail::push_decimal(out, addresses->source_port);
  out.push(' ');
  detail::push_decimal(out, addresses->destination_port);
  out.push("\r\n");
  return out;
}

/// Version 2 (section 2.2) with the PROXY command: signature, 0x21, family
/// and `type` (0x11 TCP4, 0x12 UDP4, 0x21 TCP6, 0x22 UDP6), the address
/// block's length (12 or 36, big-endian), then source address, destination
/// address, source port, destination port, all in network byte order. With
/// no `addresses`: family and protocol UNSPEC (0x00) and length 0, which a
/// receiver must skip and treat as the real connection's endpoints.
inline HeaderBytes write_v2(const std::optional<ProxiedAddresses>& addresses, SocketType type) noexcept {
  HeaderBytes out;
  out.push(v2_signature.data(), v2_signature.size());
  out.push(v2_proxy);
  if (!addresses) {
    out.push(v2_family_unspec);
    out.push_u16(0);
    return out;
  }
  bool v6 = addresses->family == ProxiedAddresses::Family::inet6;
  std::size_t address_size = v6 ? 16 : 4;
  out.push(static_cast<std::uint8_t>((v6 ? v2_family_inet6 : v2_family_inet) | static_cast<std::uint8_t>(type)));
  out.push_u16(static_cast<std::uint16_t>(v6 ? v2_inet6_block : v2_inet_block));
  out.push(addresses->source.data(), address_size);
  out.push(addresses->destination.data(), address_size);
  out.push_u16(addresses->source_port);
  out.push_u16(addresses->destination_port);
  return out;
}

/// Version 2 with the LOCAL command (section 2.2): a connection the proxy
/// made on its own behalf, such as a health check. Family UNSPEC, length 0:
/// 16 bytes, and the receiver uses the real endpoints. Version 1 has no
/// LOCAL; the spec (section 2.1) asks for a real address line instead.
inline HeaderBytes write_v2_local() noexcept {
  HeaderBytes out;
  out.push(v2_signature.data(), v2_signature.size());
  out.push(v2_local);
  out.push(v2_family_unspec);
  out.push_u16(0);
  return out;
}

/// The header for one proxied connection from `source` (the public client,
/// StreamInfo::client_address) to `destination` (the public listener,
/// StreamInfo::listener). Version 1 carries TCP only: with a datagram
/// `type` it says UNKNOWN. Throws only std::bad_alloc.
inline HeaderBytes header(Version version, std::string_view source, std::string_view destination,
                          SocketType type = SocketType::stream) {
  auto addresses = read_addresses(source, destination);
  if (version == Version::v1) return write_v1(type == SocketType::stream ? addresses : std::nullopt);
  return write_v2(addresses, type);
}

}  // namespace warren::sdk::proxy_protocol

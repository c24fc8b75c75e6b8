#pragma once
// Whether an address stays on this host: the rule behind every backend's
// `allow_remote = false` (a tunnel must not become a door into the network).

#include <boost/asio/ip/address.hpp>

namespace warren::sdk {

/// True for 127.0.0.0/8 (RFC 1122 §3.2.1.3), ::1 (RFC 4291 §2.5.3) and
/// 127.0.0.0/8 written IPv4-mapped (::ffff:127.x.y.z, RFC 4291 §2.5.5.2).
inline bool is_loopback(const boost::asio::ip::address& address) {
  if (address.is_v4()) return address.to_v4().is_loopback();
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).is_loopback();
  return v6.is_loopback();
}

}  // namespace warren::sdk

#pragma once
// Packet size to a loopback peer: the one path whose MTU is known without
// discovery. Kept apart from udp_endpoint: it asks the kernel's route, not
// the endpoint's socket.

#include <boost/asio/ip/udp.hpp>

#include <cstddef>

namespace warren::quic {

/// The largest UDP payload a packet to `remote` may carry, where the path's
/// MTU is known without discovery: for a loopback peer (127.0.0.0/8, ::1,
/// or a v4-mapped loopback address) the loopback interface's MTU as the
/// kernel's route reports it (IP_MTU / IPV6_MTU; 65536 on Linux) less the
/// IP and UDP headers, at most `cap` bytes. 0 for any other peer: beyond the
/// first hop only path MTU discovery can tell (ngtcp2 0.12 probes up to
/// 1452 bytes, NGTCP2_MAX_PMTUD_UDP_PAYLOAD_SIZE), and 0 where the route's
/// MTU is no larger than that. The route's MTU is asked once per address
/// family and process (a later `ip link set lo mtu` is not seen).
std::size_t loopback_max_udp_payload(const boost::asio::ip::udp::endpoint& remote, std::size_t cap);

}  // namespace warren::quic

#include "loopback_mtu.hpp"

#include <ngtcp2/ngtcp2.h>

#include <algorithm>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace warren::quic {

namespace {

/// The loopback route's MTU for one address family, asked of the kernel:
/// 0 if it cannot tell.
int loopback_route_mtu(const boost::asio::ip::udp::endpoint& peer) {
  bool v6 = peer.address().is_v6();
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  // Connecting a UDP socket sends nothing; it looks up the route, whose MTU
  // is then readable.
  int mtu = 0;
  socklen_t len = sizeof(mtu);
  bool known = ::connect(fd, peer.data(), static_cast<socklen_t>(peer.size())) == 0 &&
               ::getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU : IP_MTU, &mtu, &len) == 0;
  ::close(fd);
  return known ? mtu : 0;
}

}  // namespace

std::size_t loopback_max_udp_payload(const boost::asio::ip::udp::endpoint& remote, std::size_t cap) {
  boost::asio::ip::udp::endpoint peer = remote;
  if (peer.address().is_v6() && peer.address().to_v6().is_v4_mapped())
    peer = {boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, peer.address().to_v6()), peer.port()};
  if (!peer.address().is_loopback()) return 0;
  bool v6 = peer.address().is_v6();
  // Asked once per family and process: every loopback address shares the
  // one interface, and a listener flooded from loopback (a test, a local
  // relay) should not pay four syscalls per Initial for the same answer.
  static const int mtu_v4 = loopback_route_mtu({boost::asio::ip::address_v4::loopback(), 9});
  static const int mtu_v6 = loopback_route_mtu({boost::asio::ip::address_v6::loopback(), 9});
  int mtu = v6 ? mtu_v6 : mtu_v4;
  std::size_t headers = (v6 ? 40 : 20) + 8;
  if (mtu <= 0 || static_cast<std::size_t>(mtu) <= headers + NGTCP2_MAX_PMTUD_UDP_PAYLOAD_SIZE) return 0;
  return std::min(static_cast<std::size_t>(mtu) - headers, cap);
}

}  // namespace warren::quic

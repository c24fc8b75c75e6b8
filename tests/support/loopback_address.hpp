#pragma once
// 127.0.0.1:port as the socket calls want it, for tests that talk to
// loopback with plain sockets.

#include <netinet/in.h>

#include <cstdint>

namespace warren::test {

inline sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

}  // namespace warren::test

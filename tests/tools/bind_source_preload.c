// libwarren-bind-source.so: an LD_PRELOAD shim that makes a process's IPv4
// sockets bound to 0.0.0.0 bind to $WARREN_BIND_SOURCE (an address in 127/8)
// instead, so an unmodified `warren connect` comes from another loopback
// source than 127.0.0.1. The combined-flood script runs its wrong-token
// guessers under it: the edge must slow them without slowing a legitimate
// connector from 127.0.0.1. Test tool only; never shipped.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*bind_fn)(int, const struct sockaddr*, socklen_t);

int bind(int fd, const struct sockaddr* address, socklen_t length) {
  static bind_fn real_bind;
  if (!real_bind) real_bind = (bind_fn)dlsym(RTLD_NEXT, "bind");
  const char* source = getenv("WARREN_BIND_SOURCE");
  if (source && address && address->sa_family == AF_INET && length >= sizeof(struct sockaddr_in)) {
    struct sockaddr_in in;
    memcpy(&in, address, sizeof in);
    struct in_addr wanted;
    if (in.sin_addr.s_addr == htonl(INADDR_ANY) && inet_pton(AF_INET, source, &wanted) == 1 &&
        (ntohl(wanted.s_addr) >> 24) == 127) {
      in.sin_addr = wanted;
      return real_bind(fd, (const struct sockaddr*)&in, sizeof in);
    }
  }
  return real_bind(fd, address, length);
}

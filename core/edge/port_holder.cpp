#include "core/edge/port_holder.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

namespace warren::core {

namespace {

constexpr const char* kTcpListen = "0A";

// The socket inodes bound to `port` in one /proc/net table: for TCP only
// listening sockets (a connection's local port is no owner), for UDP any.
void collect_inodes(const std::string& table, std::uint16_t port, bool listening_only, std::set<std::string>& out) {
  std::ifstream in(table);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode))
      continue;
    auto colon = local.rfind(':');
    if (colon == std::string::npos) continue;
    unsigned long local_port = std::strtoul(local.c_str() + colon + 1, nullptr, 16);
    if (local_port != port || (listening_only && state != kTcpListen) || inode == "0") continue;
    out.insert("socket:[" + inode + "]");
  }
}

std::optional<std::string> owner_of(const std::set<std::string>& sockets) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (fs::directory_iterator p("/proc", ec), end; !ec && p != end; p.increment(ec)) {
    const auto pid = p->path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code fd_ec;
    for (fs::directory_iterator fd(p->path() / "fd", fd_ec); !fd_ec && fd != end; fd.increment(fd_ec)) {
      std::error_code link_ec;
      auto target = fs::read_symlink(fd->path(), link_ec);
      if (link_ec || !sockets.count(target.string())) continue;
      std::string name;
      std::getline(std::ifstream(p->path() / "comm"), name);
      if (std::to_string(::getpid()) == pid) return "this warren process";
      return (name.empty() ? std::string("a process") : name) + " (pid " + pid + ")";
    }
  }
  return std::nullopt;
}

}  // namespace

std::string describe_port_holder(PortKind kind, std::uint16_t port) {
  std::set<std::string> sockets;
  const bool tcp = kind == PortKind::tcp;
  for (const char* table : tcp ? std::vector<const char*>{"/proc/net/tcp", "/proc/net/tcp6"}
                               : std::vector<const char*>{"/proc/net/udp", "/proc/net/udp6"})
    collect_inodes(table, port, tcp, sockets);
  if (!sockets.empty())
    if (auto owner = owner_of(sockets)) return "in use by " + *owner;
  return "in use by another process";
}

}  // namespace warren::core

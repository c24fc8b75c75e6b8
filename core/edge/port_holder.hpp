#pragma once
// Who holds a local port, for the sentence an edge prints when it cannot
// bind one: read from /proc/net/{tcp,udp}{,6} and /proc/*/fd, which is
// cheap and needs no privileges for our own user's processes.

#include <cstdint>
#include <string>

namespace warren::core {

enum class PortKind { tcp, udp };

/// "in use by nc (pid 4242)", or "in use by another process" when the
/// owner cannot be seen (another user's process, no /proc).
std::string describe_port_holder(PortKind kind, std::uint16_t port);

}  // namespace warren::core

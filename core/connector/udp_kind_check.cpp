#include "core/connector/udp_kind_check.hpp"

namespace warren::core {

std::optional<std::string> backend_kind_problem(protocol::StreamKind kind, sdk::Backend::Carries carries,
                                                std::string_view backend_plugin) {
  auto backend = "[backend] plugin = \"" + std::string(backend_plugin) + "\"";
  if (kind == protocol::StreamKind::udp && carries != sdk::Backend::Carries::datagrams)
    return "the edge serves this tunnel as kind = \"udp\", but " + backend +
           " carries streams; use a backend that carries datagrams (plugin = \"udp\")";
  if (kind == protocol::StreamKind::tcp && carries != sdk::Backend::Carries::streams)
    return "the edge serves this tunnel as kind = \"tcp\", but " + backend +
           " carries datagrams; use a backend that carries streams (tcp, unix, group), or make the edge's "
           "[[tunnels]] entry kind = \"udp\"";
  return std::nullopt;
}

}  // namespace warren::core

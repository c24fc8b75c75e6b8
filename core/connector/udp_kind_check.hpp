#pragma once
// Whether the connector's backend can serve the tunnel the edge registered:
// a udp tunnel needs a backend that carries datagrams (udp), a tcp tunnel one
// that carries streams (tcp, unix, group). A mismatch of the two machines'
// configs ends the connector at the first registration (exit 3, as any
// refusal no retry mends), rather than failing every stream or datagram that
// arrives later (issue 13).

#include "core/protocol/messages.hpp"

#include <warren/sdk/backend.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace warren::core {

/// The sentence the connector exits with, naming the backend plugin and the
/// tunnel's kind; nullopt when `carries` fits `kind`.
std::optional<std::string> backend_kind_problem(protocol::StreamKind kind, sdk::Backend::Carries carries,
                                                std::string_view backend_plugin);

}  // namespace warren::core

#pragma once
// A backend plugin built for an older ABI minor lacks the vtable slots of
// the virtuals added since: calling one runs whatever sits past the end of
// its vtable. Core calls backends without asking their minor, so the loader
// hands core a backend that answers those calls itself for an older plugin:
//  - ABI <= 1.3 (no Backend::carries): it carries byte streams;
//  - ABI <= 1.4 (no DatagramFlow::receive_drops): its flows count 0 drops.
// A plugin of this warren's minor is handed over as it is.

#include "core/plugin/plugin_ptr.hpp"

#include <warren/sdk/backend.hpp>

#include <cstdint>

namespace warren::core {

/// The first ABI minor with Backend::carries and async_open_flow.
inline constexpr std::uint16_t abi_minor_datagrams = 4;
/// The first ABI minor with DatagramFlow::receive_drops.
inline constexpr std::uint16_t abi_minor_receive_drops = 5;

/// `backend`, made by a plugin whose descriptor declared `abi_minor`, as
/// core may call it: itself when the plugin has every slot core calls, else
/// wrapped in a backend that never calls the missing ones. Null stays null.
PluginPtr<sdk::Backend> gate_backend_abi(PluginPtr<sdk::Backend> backend, std::uint16_t abi_minor);

}  // namespace warren::core

#pragma once
// The loader's gate: decides from a plugin's descriptor alone, before any of
// its functions runs, whether this warren can use it.

#include <warren/sdk/plugin.hpp>

#include <optional>
#include <string>

namespace warren::core {

/// What this build of warren accepts.
struct HostAbi {
  std::uint16_t major = WARREN_ABI_MAJOR;
  std::uint16_t minor = WARREN_ABI_MINOR;
  std::string fingerprint = WARREN_BUILD_FINGERPRINT;
};

/// Why `descriptor` is refused, as a sentence naming both values; nullopt if
/// it is acceptable. `expected` is the kind the caller asked for, if any.
std::optional<std::string> refusal_reason(const sdk::PluginDescriptor& descriptor, const HostAbi& host,
                                          std::optional<sdk::PluginKind> expected);

}  // namespace warren::core

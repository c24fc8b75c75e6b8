#pragma once
// Where an edge keeps what it makes itself (its self-signed key pair) when
// [edge] state_dir is not set: the user's or the service's state folder, as
// any server does, never the folder the config file happens to sit in (that
// is often a source checkout).

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace warren::core {

/// Reads one environment variable; null when unset.
using EnvLookup = std::function<const char*(const char*)>;

/// `<base>/<edge id>`, where base is the first of: $STATE_DIRECTORY (set by
/// systemd's StateDirectory=; its first entry), $XDG_STATE_HOME/warren,
/// $HOME/.local/state/warren. Unset or relative variables are skipped (the
/// XDG rule). Characters other than letters, digits, '.', '_' and '-' in the
/// id become '_'. nullopt when none of the variables is usable.
std::optional<std::filesystem::path> default_state_dir(const std::string& edge_id,
                                                       const EnvLookup& getenv = [](const char* name) {
                                                         return static_cast<const char*>(std::getenv(name));
                                                       });

}  // namespace warren::core

#pragma once
// Opens a config file and tells an edge config from a connector config.

#include "core/config/connector_config.hpp"
#include "core/config/edge_config.hpp"

#include <filesystem>
#include <variant>

namespace warren::core {

/// Either kind of config, or monostate when the file could not be read as
/// the kind asked for.
using AnyConfig = std::variant<std::monostate, ConnectorConfig, EdgeConfig>;

/// What the command expects: `edge` and `connect` know, `check` takes either.
enum class ConfigKind { any, edge, connector };

/// Reads `file`. [edge], [[listen]] or [[tunnels]] make an edge config;
/// [tunnel], [[transport]], [discovery], [backend] or [[policy]] a connector
/// config. A file of the other kind than `expected` is one diagnostic saying
/// which command runs it; a file with neither (empty, say) is read with the
/// expected kind's schema, and for `any` an empty file is one diagnostic
/// naming both kinds.
AnyConfig read_config_file(const std::filesystem::path& file, sdk::Diagnostics& diagnostics,
                           ConfigKind expected = ConfigKind::any);

}  // namespace warren::core

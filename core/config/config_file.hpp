#pragma once
// Opens a config file and tells an edge config from a connector config.

#include "core/config/connector_config.hpp"
#include "core/config/edge_config.hpp"

#include <filesystem>
#include <variant>

namespace warren::core {

/// Either kind of config, or monostate when the file could not be parsed.
using AnyConfig = std::variant<std::monostate, ConnectorConfig, EdgeConfig>;

/// Reads `file`. A file with [edge] or [[listen]] is an edge config;
/// anything else is read as a connector config.
AnyConfig read_config_file(const std::filesystem::path& file, sdk::Diagnostics& diagnostics);

}  // namespace warren::core

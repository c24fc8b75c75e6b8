#pragma once
// Reads a TOML file into the SDK's plain ConfigTable tree, keeping each key's
// and value's file:line:column and the document's order.

#include <warren/sdk/config.hpp>

#include <filesystem>
#include <optional>
#include <string_view>

namespace warren::core {

/// Parses `file`; a syntax error becomes one diagnostic and nullopt.
std::optional<sdk::ConfigTable> read_toml_file(const std::filesystem::path& file, sdk::Diagnostics& diagnostics);

/// Parses TOML text as if read from `file_name` (for tests and `warren quick`).
std::optional<sdk::ConfigTable> read_toml_text(std::string_view text, const std::string& file_name,
                                               sdk::Diagnostics& diagnostics);

}  // namespace warren::core

#pragma once
// Config errors in the order of the file they are in. They are found in
// passes (the TOML parse, the core's schema, each plugin's table, checks
// across keys), so they arrive grouped by pass; a person reads a file from
// the top, so `warren check`, `edge`, `connect` and a refused reload print
// them by file:line:column.

#include <warren/sdk/config.hpp>

#include <vector>

namespace warren::core {

/// `diagnostics` by where they are: files in the order they first appear,
/// then by line and column. One with no line (about the whole file) comes
/// before its file's located ones; those at one place keep the order they
/// were found in.
std::vector<sdk::Diagnostic> in_file_order(const sdk::Diagnostics& diagnostics);

}  // namespace warren::core

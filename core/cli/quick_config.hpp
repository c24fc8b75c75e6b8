#pragma once
// `warren quick` writes an ordinary connector config for the user. Anything
// wrong is reported in the words the user typed: the flag and its value,
// never a key or a line of text they did not write.

#include "core/cli/commands.hpp"

#include <warren/sdk/config.hpp>

#include <map>
#include <optional>
#include <string>

namespace warren::cli {

/// The generated config and which flag each of its lines came from.
struct QuickConfig {
  std::string text;
  std::map<std::uint32_t, std::string> flag_of_line;  ///< 1-based line -> "--edge", …
};

/// Checks the flags themselves (HOST:PORT, the pin's shape): a sentence
/// naming the flag, or nullopt when they are well-formed.
std::optional<std::string> check_quick_flags(const QuickOptions& options);

QuickConfig quick_config(const QuickOptions& options);

/// `diagnostic` (about the generated config) as the user's flags say it:
/// "--to 10.0.0.1:80: … add --allow-remote if that is intended".
std::string quick_message(const sdk::Diagnostic& diagnostic, const QuickConfig& config);

}  // namespace warren::cli

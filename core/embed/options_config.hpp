#pragma once
// TunnelOptions (the embedding API's options built in code) as the
// connector config they stand for: tunnel.toml text, read by the same
// loader as `warren connect --config`, and its problems told in the words
// of the options ("options.backend: …"), never as lines of text the program
// did not write (as `warren quick` does for its flags).

#include <warren/tunnel.hpp>

#include <warren/sdk/config.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace warren::embed {

struct GeneratedConfig {
  std::string text;
  std::map<std::uint32_t, std::string> field_of_line;  ///< 1-based line -> "backend", "edges", …
};

GeneratedConfig generate_config(const TunnelOptions& options);

/// What the config cannot say for itself (an empty edge list, a token
/// without an id): one "options.FIELD: sentence" each; empty when none.
std::vector<std::string> check_options(const TunnelOptions& options);

/// `diagnostic` (about the generated config) as "options.FIELD: message".
std::string options_message(const sdk::Diagnostic& diagnostic, const GeneratedConfig& config);

/// A TOML basic string: quotes, backslashes and control characters escaped.
std::string toml_quote(std::string_view text);

}  // namespace warren::embed

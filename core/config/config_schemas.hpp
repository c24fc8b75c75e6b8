#pragma once
// Every section of both config files, as the reference (docs/config.md,
// `warren config-reference`) lists them: which file, the TOML path, a
// summary and the keys, each from the schema that reads it.

#include <warren/sdk/config_reader.hpp>

#include <string>
#include <vector>

namespace warren::core {

enum class ConfigFileKind { connector, edge };

struct SectionReference {
  ConfigFileKind file;
  std::string toml_path;  ///< "(top level)", "[tunnel]", "[[transport]]" …
  std::string summary;
  std::vector<sdk::KeySpec> keys;
  std::string plugin_kind;  ///< the kind of plugin the section names ("transport" …); "" if none
};

/// The connector's sections, then the edge's, each in the order a file
/// usually has them.
std::vector<SectionReference> config_sections();

}  // namespace warren::core

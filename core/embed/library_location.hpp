#pragma once
// Where the embedding library finds the plugins installed with it: beside
// itself, not beside the program that loaded it (which may live anywhere).

#include <filesystem>

namespace warren::embed {

/// <folder of libwarren-embed.so>/warren/plugins (the same relative path in
/// the build tree and after install); empty if the library's path is unknown.
std::filesystem::path library_plugin_dir();

}  // namespace warren::embed

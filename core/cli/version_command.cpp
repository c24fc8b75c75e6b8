#include "core/cli/commands.hpp"
#include "core/plugin/descriptor_check.hpp"

#include <iostream>

namespace warren::cli {

std::string version_text() {
  core::HostAbi host;
  return std::string("warren ") + WARREN_VERSION + "\nplugin ABI " + std::to_string(host.major) + "." +
         std::to_string(host.minor) + "\nbuild " + host.fingerprint;
}

int run_version() {
  std::cout << version_text() << "\n";
  return exit_ok;
}

}  // namespace warren::cli

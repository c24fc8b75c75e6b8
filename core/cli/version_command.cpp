#include "core/cli/commands.hpp"
#include "core/plugin/descriptor_check.hpp"

#include <iostream>

namespace warren::cli {

int run_version() {
  core::HostAbi host;
  std::cout << "warren " << WARREN_VERSION << "\n"
            << "plugin ABI " << host.major << "." << host.minor << "\n"
            << "build " << host.fingerprint << "\n";
  return exit_ok;
}

}  // namespace warren::cli

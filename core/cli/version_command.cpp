#include "core/cli/commands.hpp"
#include "core/plugin/descriptor_check.hpp"
#include "core/service/service_notify.hpp"

#include <iostream>

namespace warren::cli {

std::string version_text() {
  core::HostAbi host;
  return std::string("warren ") + WARREN_VERSION + "\nplugin ABI " + std::to_string(host.major) + "." +
         std::to_string(host.minor) + "\nbuild " + host.fingerprint + "\nsystemd notify " +
         (core::service_notify_built_in() ? "built in" : "not built in (no libsystemd at build time)");
}

int run_version() {
  std::cout << version_text() << "\n";
  return exit_ok;
}

}  // namespace warren::cli

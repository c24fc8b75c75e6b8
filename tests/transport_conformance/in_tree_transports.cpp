// What the in-tree, transport-specific cases (quic_*, http2_*, the
// throughput bench) load: warren's own plugins from the build tree.
#include "plugin_harness.hpp"

#include <filesystem>

namespace warren::test {

std::string plugin_directory() { return WARREN_PLUGIN_DIR; }

std::vector<TransportUnderTest> transports_under_test() {
  static const std::vector<TransportUnderTest> known = {{"quic", true}, {"http2", false}};
  std::vector<TransportUnderTest> built;
  for (const auto& t : known)
    if (std::filesystem::exists(std::filesystem::path(WARREN_PLUGIN_DIR) / ("libwarren-transport-" + t.name + ".so")))
      built.push_back(t);
  return built;
}

}  // namespace warren::test

#include "plugin_fixture.hpp"

namespace warren::test {

std::vector<std::string> PluginFixture::errors() const {
  std::vector<std::string> out;
  for (const auto& d : diagnostics.list()) out.push_back(d.message);
  return out;
}

}  // namespace warren::test

#include "core/embed/library_location.hpp"

#include <boost/dll/runtime_symbol_info.hpp>

namespace warren::embed {

std::filesystem::path library_plugin_dir() {
  std::error_code ec;
  auto self = boost::dll::this_line_location(ec);  // this function's module: the library, not the program
  if (ec) return {};
  return (self.parent_path() / WARREN_PLUGINS_FROM_LIB).lexically_normal();
}

}  // namespace warren::embed

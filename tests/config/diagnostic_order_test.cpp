// Config errors are told in the order of the file, whichever pass found them
// (the core's schema, a plugin's table, a check across keys).

#include "core/config/diagnostic_order.hpp"

#include <catch2/catch.hpp>

using namespace warren;

namespace {

std::vector<std::string> lines_of(const std::vector<sdk::Diagnostic>& list) {
  std::vector<std::string> out;
  for (const auto& d : list) out.push_back(d.to_string());
  return out;
}

}  // namespace

TEST_CASE("config errors come in file:line:column order, whatever pass found them") {
  sdk::Diagnostics found;
  found.error({"tunnel.toml", 9, 1}, "core: unknown key");        // the core's schema first
  found.error({"tunnel.toml", 2, 18}, "plugin: proxy_protocol");  // then [backend]'s plugin, above it
  found.error({"tunnel.toml", 2, 1}, "plugin: unknown key");
  found.error({"tunnel.toml", 9, 1}, "core: a second at the same place");
  CHECK(lines_of(core::in_file_order(found)) == std::vector<std::string>{
                                                    "tunnel.toml:2:1: plugin: unknown key",
                                                    "tunnel.toml:2:18: plugin: proxy_protocol",
                                                    "tunnel.toml:9:1: core: unknown key",
                                                    "tunnel.toml:9:1: core: a second at the same place",
                                                });
}

TEST_CASE("config errors of several files keep the files in the order they first appear") {
  sdk::Diagnostics found;
  found.error({"z.toml", 5, 1}, "later in z");
  found.error({"a.toml", 1, 1}, "in a");
  found.error({"z.toml", 1, 1}, "earlier in z");
  found.error({"z.toml", 0, 0}, "the whole of z");
  CHECK(lines_of(core::in_file_order(found)) == std::vector<std::string>{
                                                    "z.toml: the whole of z",
                                                    "z.toml:1:1: earlier in z",
                                                    "z.toml:5:1: later in z",
                                                    "a.toml:1:1: in a",
                                                });
}

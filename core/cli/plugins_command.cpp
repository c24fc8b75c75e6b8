#include "core/cli/commands.hpp"
#include "core/plugin/plugin_loader.hpp"
#include "core/plugin/plugin_search_path.hpp"

#include <warren/sdk/suggest.hpp>

#include <algorithm>
#include <iostream>

namespace warren::cli {
namespace {

std::string full_name(const core::LoadedPlugin& p) { return std::string(sdk::to_string(p.kind)) + "/" + p.name; }

/// The plugins `wanted` (NAME or KIND/NAME) can mean, in scan order.
std::vector<const core::LoadedPlugin*> matches(const core::PluginScan& scan, const std::string& wanted) {
  std::vector<const core::LoadedPlugin*> out;
  bool with_kind = wanted.find('/') != std::string::npos;
  for (const auto& p : scan.plugins)
    if ((with_kind ? full_name(p) : p.name) == wanted) out.push_back(&p);
  return out;
}

/// "default" as a user reads it: the TOML text, or what its absence means.
std::string default_line(const sdk::KeySpec& key) {
  if (key.required) return "required";
  return key.default_text.empty() ? "unset" : key.default_text;
}

void print_description(const core::LoadedPlugin& p) {
  std::cout << "kind:        " << sdk::to_string(p.kind) << "\n"
            << "name:        " << p.name << "\n"
            << "version:     " << p.version << "\n"
            << "file:        " << p.file.string() << "\n"
            << "description: " << p.description << "\n";
  auto keys = p.keys();
  if (!keys) {
    std::cout << "summary:     (none)\n\nThis plugin declares no keys: it reads its table itself (an untyped plugin, "
                 "or one built for plugin ABI 1.0), so warren cannot list them.\n";
    return;
  }
  std::cout << "summary:     " << keys->summary << "\n";
  if (keys->keys.empty()) std::cout << "\nThis plugin takes no keys.\n";
  for (const auto& key : keys->keys) {
    std::cout << "\n"
              << key.name << "\n"
              << "  type:    " << key.type << "\n"
              << "  default: " << default_line(key) << "\n";
    if (!key.range.empty()) std::cout << "  range:   " << key.range << "\n";
    std::cout << "  doc:     " << key.doc << "\n";
  }
}

int describe(const core::PluginScan& scan, const std::string& wanted) {
  auto found = matches(scan, wanted);
  if (found.size() == 1) {
    print_description(*found.front());
    return exit_ok;
  }
  std::vector<std::string> known;
  for (const auto& p : scan.plugins) known.push_back(full_name(p));
  if (found.empty()) {
    std::vector<std::string> names = known;
    for (const auto& p : scan.plugins) names.push_back(p.name);
    auto match = sdk::closest_match(wanted, names);
    std::cerr << "warren: no plugin '" << wanted << "'" << (match ? "; did you mean '" + *match + "'?" : "")
              << "\nknown plugins:";
    for (const auto& k : known) std::cerr << "\n    " << k;
    for (const auto& r : scan.refused) std::cerr << "\nrefused " << r.file.string() << ": " << r.reason;
    std::cerr << "\n";
  } else {
    std::cerr << "warren: '" << wanted << "' names more than one plugin; write KIND/NAME:";
    for (const auto* p : found) std::cerr << "\n    " << full_name(*p);
    std::cerr << "\n";
  }
  return exit_usage;
}

}  // namespace

int run_plugins(const GlobalOptions& global, const std::optional<std::string>& describe_name) {
  core::PluginLoader loader(core::plugin_search_path(global.plugin_dirs, {}));
  auto scan = loader.scan();
  std::sort(scan.plugins.begin(), scan.plugins.end(),
            [](const auto& a, const auto& b) { return std::tie(a.kind, a.name) < std::tie(b.kind, b.name); });
  if (describe_name) return describe(scan, *describe_name);
  for (const auto& p : scan.plugins)
    std::cout << sdk::to_string(p.kind) << " " << p.name << " " << p.version << " " << p.file.string() << "\n";
  for (const auto& r : scan.refused) std::cerr << "warren: refused " << r.file.string() << ": " << r.reason << "\n";
  for (const auto& f : scan.shadowed)
    std::cerr << "warren: ignored " << f.string() << ": a plugin of that kind and name was found earlier\n";
  if (scan.plugins.empty()) {
    std::cerr << "warren: no plugins found in:";
    for (const auto& dir : loader.search_dirs()) std::cerr << "\n    " << dir.string();
    std::cerr << "\n";
  }
  return exit_ok;
}

}  // namespace warren::cli

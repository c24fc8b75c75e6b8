#include "core/cli/commands.hpp"
#include "core/config/config_file.hpp"
#include "core/plugin/plugin_search_path.hpp"
#include "core/plugin/plugin_set.hpp"

#include <boost/asio/io_context.hpp>

#include <iostream>

namespace warren::cli {
namespace {

std::string names(const std::vector<core::PluginSection>& sections, const std::vector<std::string>& defaults = {}) {
  std::string out;
  for (const auto& s : sections) out += (out.empty() ? "" : ", ") + s.plugin;
  for (const auto& name : defaults) out += (out.empty() ? "" : ", ") + name + " (default)";
  return out.empty() ? "none" : out;
}

/// "backoff ← backoff (bundled default), address ← my-policy, fallback ← fallback (bundled default)":
/// which plugin plays each policy role, as the supervisor will pick them.
std::string roles_line(const std::vector<core::PolicyRole>& roles) {
  std::string out;
  for (const auto& r : roles) {
    out += (out.empty() ? "" : ", ") + r.role + " \u2190 ";
    out += r.plugin.empty() ? "built-in" : r.plugin + (r.bundled_default ? " (bundled default)" : "");
  }
  return out;
}

}  // namespace

int run_check(const GlobalOptions& global, const std::filesystem::path& file) {
  sdk::Diagnostics diagnostics;
  auto config = core::read_config_file(file, diagnostics);
  boost::asio::io_context io;  // plugins are made, never run
  std::string summary;
  if (auto* c = std::get_if<core::ConnectorConfig>(&config)) {
    core::PluginLoader loader(core::plugin_search_path(global.plugin_dirs, c->plugin_dirs));
    auto plugins = core::make_connector_plugins(*c, loader, io.get_executor(), diagnostics);
    summary = "connector config: tunnel " + c->tunnel.id.value_or("(quick)") + ", transports " +
              names(c->transports) + ", discovery " + c->discovery.plugin + ", backend " + c->backend.plugin +
              ", policies " + names(c->policies, plugins->default_policies);
    if (diagnostics.ok()) summary += "\npolicies: " + roles_line(plugins->roles);
  } else if (auto* e = std::get_if<core::EdgeConfig>(&config)) {
    core::PluginLoader loader(core::plugin_search_path(global.plugin_dirs, e->plugin_dirs));
    core::make_edge_plugins(*e, loader, io.get_executor(), diagnostics);
    summary = "edge config: edge " + e->edge.id + ", " + std::to_string(e->listen.size()) + " listener(s), " +
              std::to_string(e->tunnels.size()) + " tunnel(s)" +
              (e->edge.cert ? std::string() : ", key pair kept in " + e->edge.state_dir.string());
  }
  if (!diagnostics.ok()) return report_invalid(file, diagnostics);
  std::cout << file.string() << ": valid " << summary << "\n";
  return exit_ok;
}

}  // namespace warren::cli

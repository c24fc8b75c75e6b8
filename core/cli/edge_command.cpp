// `warren edge --config FILE`: run an edge until SIGINT/SIGTERM.

#include "core/cli/commands.hpp"
#include "core/cli/descriptor_limit.hpp"
#include "core/config/config_file.hpp"
#include "core/edge/edge_server.hpp"
#include "core/log/logging.hpp"
#include "core/plugin/plugin_search_path.hpp"
#include "core/service/service_notify.hpp"
#include "core/service/service_status.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <iostream>

namespace warren::cli {

namespace {

std::vector<std::string> certificate_names(const core::EdgeConfig& config) {
  std::vector<std::string> names{"localhost", "127.0.0.1", "::1"};
  auto add = [&](const std::string& n) {
    if (n != "0.0.0.0" && n != "::" && std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  };
  add(config.edge.public_host);
  for (const auto& l : config.listen) add(l.address.host);
  return names;
}

/// SIGHUP: reads `file` again and checks it in full, plugins included, as
/// `warren check` does; a valid one is applied (core/edge/edge_reload_plan.hpp
/// says what changes at once and what needs a restart), an invalid one
/// changes nothing and each error is logged as FILE:LINE:COL.
void reload_edge(const GlobalOptions& global, const std::filesystem::path& file, boost::asio::io_context& io,
                 core::EdgeServer& server) {
  sdk::Diagnostics diagnostics;
  auto any = core::read_config_file(file, diagnostics, core::ConfigKind::edge);
  auto* fresh = std::get_if<core::EdgeConfig>(&any);
  std::unique_ptr<core::EdgePlugins> plugins;
  if (fresh) {
    core::PluginLoader loader(core::plugin_search_path(global.plugin_dirs, fresh->plugin_dirs));
    plugins = core::make_edge_plugins(*fresh, loader, io.get_executor(), diagnostics);
  }
  if (!fresh || !diagnostics.ok()) return log_refused_reload(file, diagnostics);
  server.reload(*fresh, std::move(plugins));
}

}  // namespace

int run_edge(const GlobalOptions& global, const std::filesystem::path& file) {
  sdk::Diagnostics diagnostics;
  core::set_log_context("edge");  // --log-format json's component
  auto any = core::read_config_file(file, diagnostics, core::ConfigKind::edge);
  auto* config = std::get_if<core::EdgeConfig>(&any);
  boost::asio::io_context io(1);
  core::PluginLoader loader(core::plugin_search_path(global.plugin_dirs, config ? config->plugin_dirs
                                                                              : std::vector<std::filesystem::path>{}));
  std::unique_ptr<core::EdgePlugins> plugins;
  if (config) plugins = core::make_edge_plugins(*config, loader, io.get_executor(), diagnostics);
  if (!diagnostics.ok() || !config) return report_invalid(file, diagnostics);

  core::EdgeIdentity identity;
  try {
    identity = config->edge.cert ? core::load_identity(*config->edge.cert, *config->edge.key)
                                 : core::load_or_make_identity(config->edge.state_dir, config->edge.id,
                                                               certificate_names(*config));
  } catch (const std::exception& e) {
    std::cerr << "warren: " << e.what() << "\n";
    return exit_failure;
  }
  if (identity.generated)
    core::log().info("made a self-signed certificate in {}", identity.cert_file.parent_path().string());

  raise_descriptor_limit();
  core::ServiceNotifier notifier(io);  // systemd (Type=notify); outlives the server
  core::EdgeServer server(io, *config, *plugins, identity, [](const std::string& line) {
    std::cout << line << std::endl;  // flushed: scripts wait for these lines
  });
  // Before start: a script that reads the printed lines may signal at once.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  // SIGHUP re-reads the config file and the certificate and key
  // (reload_edge above); what cannot be used is logged and the old kept.
  boost::asio::signal_set hangup(io, SIGHUP);
  try {
    server.start();
  } catch (const std::exception& e) {
    std::cerr << "warren: " << e.what() << "\n";
    return exit_failure;
  }
  core::log().info("edge '{}' ready", config->edge.id);
  // READY=1 once every transport and the admin endpoint listen; STATUS= as legs come and go.
  auto edge_status = [&] { return core::edge_status_text(server.metrics().tunnels, server.metrics().legs); };
  server.on_legs_changed = [&] { notifier.status(edge_status()); };
  notifier.ready(edge_status());

  std::function<void()> wait_hangup = [&] {
    hangup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      core::log().info("SIGHUP: reloading {}", file.string());
      reload_edge(global, file, io, server);
      wait_hangup();
    });
  };
  wait_hangup();

  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    core::log().info("signal {}: stopping", signal);
    notifier.stopping("stopping");
    hangup.cancel();
    server.stop();
    io.stop();
  });
  io.run();
  server.on_legs_changed = nullptr;  // legs closed by ~EdgeServer tell nobody
  return exit_ok;
}

}  // namespace warren::cli

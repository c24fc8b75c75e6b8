// `warren connect --config FILE` and `warren quick …`: run a connector until
// SIGINT/SIGTERM, a fatal refusal, or (with --no-reconnect) the first loss.
// SIGHUP re-reads the config file of `connect` (ConnectorShell::reload).

#include "core/cli/commands.hpp"
#include "core/cli/descriptor_limit.hpp"
#include "core/cli/quick_config.hpp"
#include "core/config/config_file.hpp"
#include "core/config/diagnostic_order.hpp"
#include "core/config/toml_tree.hpp"
#include "core/connector/connector_shell.hpp"
#include "core/log/logging.hpp"
#include "core/plugin/plugin_search_path.hpp"
#include "core/service/service_notify.hpp"
#include "core/service/service_status.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>

#include <algorithm>
#include <iostream>
#include <optional>

namespace warren::cli {

namespace {

using ReportInvalid = std::function<int(const sdk::Diagnostics&)>;

/// Every plugin object of `config`, as `warren check` makes them; their
/// errors are added to `diagnostics`. A new loader: a plugin file replaced on
/// disk is loaded anew (PluginLoader).
std::shared_ptr<core::ConnectorPlugins> make_plugins(const GlobalOptions& global, const core::ConnectorConfig& config,
                                                     boost::asio::io_context& io, sdk::Diagnostics& diagnostics) {
  core::PluginLoader loader(core::plugin_search_path(global.plugin_dirs, config.plugin_dirs));
  return core::make_connector_plugins(config, loader, io.get_executor(), diagnostics);
}

// Validates completely before anything running changes: the file is read
// and every plugin object is made, as `warren check` does, even when the file
// has errors of its own, so every error is told at once.
void reload_connector(const GlobalOptions& global, const std::filesystem::path& file, boost::asio::io_context& io,
                      core::ConnectorShell& shell) {
  core::log().info("SIGHUP: reloading {}", file.string());
  sdk::Diagnostics diagnostics;
  auto any = core::read_config_file(file, diagnostics, core::ConfigKind::connector);
  auto* config = std::get_if<core::ConnectorConfig>(&any);
  std::shared_ptr<core::ConnectorPlugins> plugins;
  if (config) plugins = make_plugins(global, *config, io, diagnostics);
  if (!diagnostics.ok() || !config) return log_refused_reload(file, diagnostics);
  shell.reload(*config, std::move(plugins));
}

int run_connector(const GlobalOptions& global, const core::ConnectorConfig& config, bool no_reconnect,
                  const ReportInvalid& report,
                  const std::function<void(const core::protocol::Registered&)>& on_first_registration,
                  const std::optional<std::filesystem::path>& reload_file = std::nullopt) {
  sdk::Diagnostics diagnostics;
  core::set_log_context("connector", config.tunnel.id.value_or(""));  // --log-format json's fields
  raise_descriptor_limit();  // one backend socket per stream
  boost::asio::io_context io(1);
  auto plugins = make_plugins(global, config, io, diagnostics);
  if (!diagnostics.ok()) return report(diagnostics);

  bool announced = false;
  core::ConnectorOptions options;
  options.no_reconnect = no_reconnect;
  options.on_registered = [&](const core::protocol::Registered& r, unsigned) {
    if (!announced && on_first_registration) on_first_registration(r);
    announced = true;
  };
  // systemd (Type=notify): READY=1 once a leg is registered, after the
  // "tunnel ID ADDRESS" line; STATUS= as legs come and go.
  core::ServiceNotifier notifier(io);
  options.on_legs_changed = [&](std::span<const core::supervisor::LegState> legs) {
    bool any = std::any_of(legs.begin(), legs.end(),
                           [](const auto& l) { return l.phase == core::supervisor::LegPhase::registered; });
    if (any) notifier.ready(core::connector_status_text(legs));
    else notifier.status(core::connector_status_text(legs));
  };
  std::unique_ptr<core::ConnectorShell> shell;
  try {
    shell = std::make_unique<core::ConnectorShell>(io, config, plugins, options);
  } catch (const std::exception& e) {
    std::cerr << "warren: " << e.what() << "\n";
    return exit_usage;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      core::log().info("signal {}: unregistering and draining (again to stop at once)", signal);
      notifier.stopping("stopping: unregistering and draining");
      shell->shutdown();
      wait_signal();
    });
  };
  wait_signal();
  // A quick tunnel has no file to re-read: SIGHUP keeps its default there.
  std::optional<boost::asio::signal_set> hangups;
  std::function<void()> wait_hangup = [&] {
    hangups->async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      reload_connector(global, *reload_file, io, *shell);
      wait_hangup();
    });
  };
  if (reload_file) {
    hangups.emplace(io, SIGHUP);
    wait_hangup();
  }
  shell->start();
  io.run();
  return shell->exit_code().value_or(exit_failure);
}

}  // namespace

int run_connect(const GlobalOptions& global, const std::filesystem::path& file, bool no_reconnect) {
  sdk::Diagnostics diagnostics;
  auto any = core::read_config_file(file, diagnostics, core::ConfigKind::connector);
  auto* config = std::get_if<core::ConnectorConfig>(&any);
  if (config && !diagnostics.ok()) {
    boost::asio::io_context io;  // plugins are made for their errors, never run (as by `check`)
    make_plugins(global, *config, io, diagnostics);
  }
  if (!diagnostics.ok() || !config) return report_invalid(file, diagnostics);
  auto report = [&](const sdk::Diagnostics& d) { return report_invalid(file, d); };
  return run_connector(
      global, *config, no_reconnect, report,
      [&](const core::protocol::Registered& r) {
        std::cout << "tunnel " << config->tunnel.id.value_or(r.tunnel_id) << " " << r.public_address << std::endl;
      },
      file);
}

int run_quick(const GlobalOptions& global, const QuickOptions& quick) {
  if (auto problem = check_quick_flags(quick)) {
    std::cerr << "warren quick: " << *problem << "\n";
    return exit_usage;
  }
  // A quick tunnel is an ordinary connector config, written for the user;
  // its problems are told in the words of the flags.
  auto generated = quick_config(quick);
  auto report = [&](const sdk::Diagnostics& diagnostics) {
    for (const auto& d : core::in_file_order(diagnostics)) std::cerr << quick_message(d, generated) << "\n";
    return exit_usage;
  };
  sdk::Diagnostics diagnostics;
  auto root = core::read_toml_text(generated.text, "warren quick", diagnostics);
  core::ConnectorConfig config;
  if (root) config = core::read_connector_config(*root, "warren quick", diagnostics);
  if (!diagnostics.ok()) return report(diagnostics);
  return run_connector(global, config, false, report, [](const core::protocol::Registered& r) {
    std::cout << r.public_address << std::endl;  // alone on its line, as soon as it exists
  });
}

}  // namespace warren::cli

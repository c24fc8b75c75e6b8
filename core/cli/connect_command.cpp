// `warren connect --config FILE` and `warren quick …`: run a connector until
// SIGINT/SIGTERM, a fatal refusal, or (with --no-reconnect) the first loss.

#include "core/cli/commands.hpp"
#include "core/config/config_file.hpp"
#include "core/config/toml_tree.hpp"
#include "core/connect/connector_shell.hpp"
#include "core/log/logging.hpp"
#include "core/plugin/plugin_search_path.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>

#include <iostream>

namespace warren::cli {

namespace {

int run_connector(const GlobalOptions& global, const core::ConnectorConfig& config, bool no_reconnect,
                  const std::function<void(const core::protocol::Registered&)>& on_first_registration) {
  sdk::Diagnostics diagnostics;
  boost::asio::io_context io(1);
  core::PluginLoader loader(core::plugin_search_path(global.plugin_dirs, config.plugin_dirs));
  auto plugins = core::make_connector_plugins(config, loader, io.get_executor(), diagnostics);
  if (!diagnostics.ok()) return report_invalid(config.file, diagnostics);

  bool announced = false;
  core::ConnectorOptions options;
  options.no_reconnect = no_reconnect;
  options.on_registered = [&](const core::protocol::Registered& r, unsigned) {
    if (!announced && on_first_registration) on_first_registration(r);
    announced = true;
  };
  std::unique_ptr<core::ConnectorShell> shell;
  try {
    shell = std::make_unique<core::ConnectorShell>(io, config, *plugins, options);
  } catch (const std::exception& e) {
    std::cerr << "warren: " << e.what() << "\n";
    return exit_usage;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      core::log().info("signal {}: unregistering and draining (again to stop at once)", signal);
      shell->shutdown();
      wait_signal();
    });
  };
  wait_signal();
  shell->start();
  io.run();
  return shell->exit_code().value_or(exit_failure);
}

}  // namespace

int run_connect(const GlobalOptions& global, const std::filesystem::path& file, bool no_reconnect) {
  sdk::Diagnostics diagnostics;
  auto any = core::read_config_file(file, diagnostics);
  auto* config = std::get_if<core::ConnectorConfig>(&any);
  if (!config && diagnostics.ok())
    diagnostics.error({file.string(), 0, 0}, "this is an edge config; use `warren edge --config`");
  if (!diagnostics.ok()) return report_invalid(file, diagnostics);
  return run_connector(global, *config, no_reconnect, [&](const core::protocol::Registered& r) {
    std::cout << "tunnel " << config->tunnel.id.value_or(r.tunnel_id) << " " << r.public_address << std::endl;
  });
}

int run_quick(const GlobalOptions& global, const QuickOptions& quick) {
  // A quick tunnel is an ordinary connector config, written for the user.
  auto quote = [](const std::string& s) {
    std::string out = "\"";
    for (char c : s) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    return out + "\"";
  };
  std::string trust = quick.insecure ? "insecure = true" : "edge_fingerprint = " + quote(quick.fingerprint);
  std::string text = "[tunnel]\nha_connections = 2\n" + trust + "\ngrace_period = \"5s\"\n" +
                     "[[transport]]\nplugin = \"quic\"\n" + "[discovery]\nplugin = \"static\"\nedges = [" +
                     quote(quick.edge) + "]\n" + "[backend]\nplugin = \"tcp\"\naddress = " + quote(quick.to) + "\n" +
                     "[[policy]]\nplugin = \"backoff\"\nbase = \"500ms\"\nmax = \"10s\"\n";
  sdk::Diagnostics diagnostics;
  auto root = core::read_toml_text(text, "warren quick", diagnostics);
  core::ConnectorConfig config;
  if (root) config = core::read_connector_config(*root, "warren quick", diagnostics);
  if (!diagnostics.ok()) {
    // Locations inside generated text mean nothing to the user: say which flag.
    for (const auto& d : diagnostics.list()) std::cerr << "warren quick: " << d.message << "\n";
    return exit_usage;
  }
  return run_connector(global, config, false, [](const core::protocol::Registered& r) {
    std::cout << r.public_address << std::endl;  // alone on its line, as soon as it exists
  });
}

}  // namespace warren::cli

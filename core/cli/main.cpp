// warren: one binary, one subcommand per role.

#include "core/cli/commands.hpp"
#include "core/log/logging.hpp"

#include <warren/sdk/suggest.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
  using namespace warren;
  // A reader of our stdout that goes away (`warren connect | head -1`) must
  // not kill a running tunnel: later lines are simply lost. (Sockets already
  // send with MSG_NOSIGNAL.)
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"warren: a self-hosted reverse tunnel, every moving part a plugin", "warren"};
  app.require_subcommand(1);
  app.set_version_flag("--version", [] { return cli::version_text(); }, "print warren's version and plugin ABI");
  cli::GlobalFlags before_command;  // `warren --log-level debug check …`
  before_command.add_to(app);

  std::filesystem::path config;
  auto* check = app.add_subcommand("check", "validate an edge or connector config, plugins included");
  check->add_option("--config,-c", config, "the config file")->required();
  auto* edge = app.add_subcommand("edge", "run an edge: accept connectors, serve their tunnels");
  edge->add_option("--config,-c", config, "the edge config file")->required();
  bool no_reconnect = false;
  auto* connect = app.add_subcommand("connect", "run a connector: tunnel an edge's public port to a local service");
  connect->add_option("--config,-c", config, "the connector config file")->required();
  connect->add_flag("--no-reconnect", no_reconnect, "exit 1 on the first lost connection instead of reconnecting");
  cli::QuickOptions quick_options;
  auto* quick = app.add_subcommand("quick", "a quick tunnel with no config; prints the public address");
  quick->add_option("--edge", quick_options.edge, "the edge, HOST:PORT")->required();
  quick->add_option("--to", quick_options.to, "the local service, HOST:PORT")->required();
  auto* pin = quick->add_option("--fingerprint", quick_options.fingerprint, "the edge's pin, sha256:…");
  auto* insecure = quick->add_flag("--insecure", quick_options.insecure, "do not verify the edge (testing only)");
  pin->excludes(insecure);
  quick->add_flag("--allow-remote", quick_options.allow_remote, "let --to be an address that is not loopback");
  quick->callback([&] {
    if (quick_options.fingerprint.empty() && !quick_options.insecure)
      throw CLI::RequiredError("--fingerprint PIN or --insecure");
  });
  auto* plugins = app.add_subcommand("plugins", "list the plugins found: KIND NAME VERSION FILE");
  std::string describe_name;
  auto* describe = plugins->add_option("--describe", describe_name,
                                       "show one plugin (NAME or KIND/NAME): its file, description and keys");
  auto* config_reference = app.add_subcommand(
      "config-reference", "print the config reference (docs/config.md) as Markdown: every key of both config "
                          "files and of the bundled plugins (and those in --plugin-dir)");
  auto* version = app.add_subcommand("version", "print warren's version and plugin ABI");
  cli::StatusOptions status_options;
  auto* status = app.add_subcommand("status", "show a running edge's or connector's legs, tunnels and streams");
  auto* status_admin = status->add_option("--admin", status_options.admin,
                                          "its admin address, HOST:PORT (default 127.0.0.1:9101)");
  status->add_option("--config,-c", status_options.config, "read the admin address from this edge or connector config")
      ->excludes(status_admin);
  status->add_flag("--json", status_options.json, "print the /status document as is");

  // Each command also takes the global flags itself, so its --help shows them.
  std::vector<std::unique_ptr<cli::GlobalFlags>> after_command;
  for (auto* sub : app.get_subcommands({})) {
    after_command.push_back(std::make_unique<cli::GlobalFlags>());
    after_command.back()->add_to(*sub);
  }

  // CLI11 would only say "a subcommand is required"; name the typo instead.
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const auto* sub : app.get_subcommands({})) names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      auto match = sdk::closest_match(argv[1], names);
      std::cerr << "warren: unknown command '" << argv[1] << "'"
                << (match ? "; did you mean '" + *match + "'?" : std::string()) << "\nRun with --help for more information.\n";
      return cli::exit_usage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? cli::exit_ok : cli::exit_usage;
  }
  cli::GlobalOptions global = before_command.options;
  std::string log_level = before_command.log_level.value_or("info");
  std::string log_format = before_command.log_format.value_or("text");
  for (const auto& flags : after_command) {  // only the chosen command's are set
    global.plugin_dirs.insert(global.plugin_dirs.end(), flags->options.plugin_dirs.begin(),
                              flags->options.plugin_dirs.end());
    if (flags->log_level) log_level = *flags->log_level;
    if (flags->log_format) log_format = *flags->log_format;
  }
  core::configure_logging(*core::parse_log_level(log_level), *core::parse_log_format(log_format));

  try {
    if (*check) return cli::run_check(global, config);
    if (*edge) return cli::run_edge(global, config);
    if (*connect) return cli::run_connect(global, config, no_reconnect);
    if (*quick) return cli::run_quick(global, quick_options);
    if (*plugins) return cli::run_plugins(global, describe->count() ? std::optional(describe_name) : std::nullopt);
    if (*config_reference) return cli::run_config_reference(global);
    if (*version) return cli::run_version();
    if (*status) return cli::run_status(status_options);
  } catch (const std::exception& e) {
    std::cerr << "warren: " << e.what() << "\n";
    return cli::exit_failure;
  }
  return cli::exit_usage;
}

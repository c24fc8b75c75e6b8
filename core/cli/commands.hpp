#pragma once
// The `warren` subcommands. Each returns the process exit code of the
// contract: 0 clean, 1 runtime failure, 2 bad usage or invalid config,
// 3 rejected by the edge.

#include <warren/sdk/config.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace warren::cli {

enum ExitCode : int { exit_ok = 0, exit_failure = 1, exit_usage = 2, exit_rejected = 3 };

/// Options every subcommand takes.
struct GlobalOptions {
  std::vector<std::filesystem::path> plugin_dirs;
};

/// --plugin-dir, --log-level and --log-format, added to `warren` itself and to
/// every subcommand (CLI11 shows a subcommand's --help without its parent's flags).
struct GlobalFlags {
  GlobalOptions options;
  std::optional<std::string> log_level;
  std::optional<std::string> log_format;  ///< "text" or "json"
  void add_to(CLI::App& app);
};

int run_check(const GlobalOptions& global, const std::filesystem::path& config);
int run_edge(const GlobalOptions& global, const std::filesystem::path& config);
int run_connect(const GlobalOptions& global, const std::filesystem::path& config, bool no_reconnect);

struct QuickOptions {
  std::string edge;         ///< HOST:PORT of the edge
  std::string to;           ///< HOST:PORT of the local service
  std::string fingerprint;  ///< the edge's pin, unless insecure
  bool insecure = false;
  bool allow_remote = false;  ///< --to may be a non-loopback address
};
int run_quick(const GlobalOptions& global, const QuickOptions& options);
/// Lists the plugins found; with `describe_name` (NAME or KIND/NAME), shows
/// that plugin and its keys instead (exit 2 if it names none, or several).
int run_plugins(const GlobalOptions& global, const std::optional<std::string>& describe_name = std::nullopt);
/// Prints docs/config.md: every section and key of both config files and of
/// the bundled plugins (plus those in --plugin-dir), as Markdown.
int run_config_reference(const GlobalOptions& global);
int run_version();
struct StatusOptions {
  std::optional<std::string> admin;                  ///< HOST:PORT; neither this nor config: 127.0.0.1:9101
  std::optional<std::filesystem::path> config;       ///< an edge or connector config naming its admin address
  bool json = false;                                 ///< print the /status document as is
};
/// GETs /status from a running edge or connector and prints it as tables;
/// exit 1 when nothing answers there, 2 for a bad address or config.
int run_status(const StatusOptions& options);
/// What `warren version` and `warren --version` print, without a final newline.
std::string version_text();

/// Prints every diagnostic as FILE:LINE:COL: message, in file order, then
/// their count; returns exit_usage (config_errors.cpp).
int report_invalid(const std::filesystem::path& file, const sdk::Diagnostics& diagnostics);
/// Logs every diagnostic of a refused SIGHUP reload of `file`, in file order,
/// then "reload refused: FILE has N errors; the running config stays".
void log_refused_reload(const std::filesystem::path& file, const sdk::Diagnostics& diagnostics);

}  // namespace warren::cli

#pragma once
// The `warren` subcommands. Each returns the process exit code of the
// contract: 0 clean, 1 runtime failure, 2 bad usage or invalid config,
// 3 rejected by the edge.

#include <filesystem>
#include <vector>

namespace warren::cli {

enum ExitCode : int { exit_ok = 0, exit_failure = 1, exit_usage = 2, exit_rejected = 3 };

/// Options every subcommand takes.
struct GlobalOptions {
  std::vector<std::filesystem::path> plugin_dirs;
};

int run_check(const GlobalOptions& global, const std::filesystem::path& config);
int run_plugins(const GlobalOptions& global);
int run_version();

}  // namespace warren::cli

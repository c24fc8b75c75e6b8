#include "core/cli/commands.hpp"

#include <CLI/CLI.hpp>

namespace warren::cli {

void GlobalFlags::add_to(CLI::App& app) {
  app.add_option("--plugin-dir", options.plugin_dirs, "folder searched first for plugins (repeatable)")
      ->group("Global options");
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error (default info)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "warning", "error"}))
      ->group("Global options");
  app.add_option("--log-format", log_format,
                 "text (default: lines for people) or json (one object per line: time, level, component, leg, "
                 "tunnel, message)")
      ->check(CLI::IsMember({"text", "json"}))
      ->group("Global options");
}

}  // namespace warren::cli

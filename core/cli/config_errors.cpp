// How the commands tell a config's errors: `check`, `edge` and `connect` on
// stderr before they exit 2, a refused SIGHUP reload (edge and connector) in
// the log while the running config stays. One wording, in file order.

#include "core/cli/commands.hpp"
#include "core/config/diagnostic_order.hpp"
#include "core/log/logging.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>

namespace warren::cli {
namespace {

std::string count_of_errors(std::size_t n) { return std::to_string(n) + (n == 1 ? " error" : " errors"); }

}  // namespace

int report_invalid(const std::filesystem::path& file, const sdk::Diagnostics& diagnostics) {
  for (const auto& d : core::in_file_order(diagnostics)) std::cerr << d.to_string() << "\n";
  std::cerr << "warren: " << file.string() << ": " << count_of_errors(diagnostics.list().size()) << "\n";
  return exit_usage;
}

void log_refused_reload(const std::filesystem::path& file, const sdk::Diagnostics& diagnostics) {
  for (const auto& d : core::in_file_order(diagnostics)) core::log().error("{}", d.to_string());
  // At least one: a file that could not be read as the running kind is an error, said or not.
  core::log().error("reload refused: {} has {}; the running config stays", file.string(),
                    count_of_errors(std::max<std::size_t>(diagnostics.list().size(), 1)));
}

}  // namespace warren::cli

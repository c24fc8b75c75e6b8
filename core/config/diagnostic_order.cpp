#include "core/config/diagnostic_order.hpp"

#include <algorithm>
#include <string>
#include <tuple>

namespace warren::core {

std::vector<sdk::Diagnostic> in_file_order(const sdk::Diagnostics& diagnostics) {
  std::vector<sdk::Diagnostic> sorted = diagnostics.list();
  // A file's rank is where it first appears: the config before a file it names.
  std::vector<std::string> files;
  for (const auto& d : sorted)
    if (std::find(files.begin(), files.end(), d.where.file) == files.end()) files.push_back(d.where.file);
  auto rank = [&](const sdk::Diagnostic& d) {
    return std::find(files.begin(), files.end(), d.where.file) - files.begin();
  };
  std::stable_sort(sorted.begin(), sorted.end(), [&](const sdk::Diagnostic& a, const sdk::Diagnostic& b) {
    return std::tuple(rank(a), a.where.line, a.where.column) < std::tuple(rank(b), b.where.line, b.where.column);
  });
  return sorted;
}

}  // namespace warren::core

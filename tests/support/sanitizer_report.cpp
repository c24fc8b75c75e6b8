#include "sanitizer_report.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>

namespace warren::test {

std::optional<std::string> sanitizer_report(std::string_view stderr_text) {
  // The first line each runtime prints for a finding.
  // LeakSanitizer's own failure (its tracer crashed, say) is named too.
  static constexpr std::array<std::string_view, 7> kMarkers = {
      "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer",
      "runtime error: ",  // UBSan: "file:line:col: runtime error: ..."
      "Tracer caught signal", "LeakSanitizer has encountered a fatal error"};
  std::size_t first = std::string_view::npos;
  for (auto marker : kMarkers) first = std::min(first, stderr_text.find(marker));
  if (first == std::string_view::npos) return std::nullopt;
  auto line_start = stderr_text.rfind('\n', first);
  line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  constexpr std::size_t kMaxReport = 8192;  // the first frames say where; the rest is in the child's stderr
  return std::string(stderr_text.substr(line_start, kMaxReport));
}

void check_no_sanitizer_report(const std::string& what, std::optional<int> exit_code, std::string_view stderr_text) {
  auto report = sanitizer_report(stderr_text);
  if (report) {
    FAIL_CHECK(what << " reported a sanitizer finding:\n" << *report);
  } else if (exit_code == kSanitizerExitCode) {
    FAIL_CHECK(what << " exited with " << kSanitizerExitCode << " (the sanitizers' exit code) and no report on stderr");
  }
}

}  // namespace warren::test

#pragma once
// Sanitizer findings in the programs a test starts. In a sanitizer build
// (WARREN_SANITIZE, scripts/test-sanitize.sh) a `warren` child reports an
// error or a leak on its stderr and exits with kSanitizerExitCode
// (ASAN_OPTIONS/UBSAN_OPTIONS exitcode, scripts/sanitize-env.sh). Many tests
// stop their children with a signal and never look at the exit code, so the
// process helpers (run_process, BackgroundProcess) look for a report
// themselves and fail the running test case when they find one.

#include <optional>
#include <string>
#include <string_view>

namespace warren::test {

/// The exit code sanitize-env.sh gives ASan, LSan and UBSan: unlike 1 or 2,
/// no warren command exits with it on its own.
inline constexpr int kSanitizerExitCode = 86;

/// The sanitizer report in `stderr_text` (from its first line, at most a few
/// KiB), or nullopt when there is none.
std::optional<std::string> sanitizer_report(std::string_view stderr_text);

/// Fails the running Catch2 test case (without stopping it) when `exit_code`
/// is kSanitizerExitCode or `stderr_text` holds a report; `what` names the
/// program.
void check_no_sanitizer_report(const std::string& what, std::optional<int> exit_code, std::string_view stderr_text);

}  // namespace warren::test

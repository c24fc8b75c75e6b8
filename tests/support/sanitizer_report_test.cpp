// The test helpers turn a sanitizer finding in a child process into a
// failed test: the report is recognised in stderr (always checked), and in
// a sanitizer build a real finding in a real child fails the test case that
// started it ([!shouldfail]: these cases pass only if the helper failed them).

#include "sanitizer_report.hpp"

#include "background_process.hpp"
#include "process.hpp"
#include "time_scale.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <regex>
#include <string>
#include <unistd.h>

using namespace warren;
using namespace std::chrono_literals;

TEST_CASE("sanitizer_report finds ASan, LSan, UBSan and TSan reports and nothing in a clean log") {
  CHECK_FALSE(test::sanitizer_report("[info] edge listening on 127.0.0.1:7844\nerror: bad config\n"));
  auto asan = test::sanitizer_report(
      "[info] started\n=================================================================\n"
      "==4242==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000018\n    #0 0x55 in main\n");
  REQUIRE(asan);
  CHECK(asan->starts_with("==4242==ERROR: AddressSanitizer: heap-buffer-overflow"));
  auto lsan =
      test::sanitizer_report("\n==77==ERROR: LeakSanitizer: detected memory leaks\n\nDirect leak of 4096 byte(s)\n");
  REQUIRE(lsan);
  CHECK(lsan->starts_with("==77==ERROR: LeakSanitizer"));
  auto ubsan = test::sanitizer_report("core/edge/x.cpp:10:5: runtime error: signed integer overflow\n");
  REQUIRE(ubsan);
  CHECK(ubsan->starts_with("core/edge/x.cpp:10:5: runtime error"));
  CHECK(test::sanitizer_report("WARNING: ThreadSanitizer: data race (pid=1)\n"));
}

TEST_CASE("time_scale stretches upper bounds by WARREN_TEST_TIME_SCALE, never below 1") {
  CHECK(test::time_scale() >= 1.0);
  CHECK(test::scaled(1s) >= 1000ms);
  CHECK(test::scaled(1s).count() == static_cast<long>(1000 * test::time_scale()));
}

#if defined(__SANITIZE_ADDRESS__)
namespace {
std::string canary() { return std::string(WARREN_TOOLS_DIR) + "/warren-sanitizer-canary"; }
}  // namespace

// The canary's findings are real and exit with kSanitizerExitCode. Run
// through a shell that moves its stderr to stdout and exits 0, so that the
// helper sees nothing and this case can check the report itself.
TEST_CASE("the canary reports a leak and a heap overflow and exits with the sanitizers' exit code") {
  for (const char* mode : {"leak", "overflow"}) {
    INFO(mode);
    auto result =
        test::run_process({"/bin/sh", "-c", "\"$0\" \"$1\" 2>&1; echo \"exit=$?\"", canary(), mode}, 20s);
    CHECK(result.exit_code == 0);
    CHECK(test::sanitizer_report(result.out));
    CHECK_THAT(result.out, Catch::Contains("exit=" + std::to_string(test::kSanitizerExitCode)));
  }
}

// Below, nothing but the helper can fail the case: it passes only if it did.
TEST_CASE("a leak in a child that run_process runs fails the test", "[!shouldfail]") {
  test::run_process({canary(), "leak"}, 20s);
}

TEST_CASE("a heap overflow in a child that run_process runs fails the test", "[!shouldfail]") {
  test::run_process({canary(), "overflow"}, 20s);
}

TEST_CASE("a leak reported as a BackgroundProcess exits after the test's SIGTERM fails the test", "[!shouldfail]") {
  auto stderr_file = std::filesystem::temp_directory_path() / ("warren-canary-" + std::to_string(getpid()) + ".err");
  {
    test::BackgroundProcess child({canary(), "leak-on-term"}, stderr_file);
    child.wait_for_line(std::regex("^ready$"), 10s);
    // The test never looks at the exit code; the destructor stops the child
    // with SIGTERM and must find the leak report on its own.
  }
  std::filesystem::remove(stderr_file);
}
#endif

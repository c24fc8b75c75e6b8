# Sourced (not run): the runtime options of a sanitizer build of warren.
#   source scripts/sanitize-env.sh && ctest --test-dir build-asan
# Every process started under these settings, the `warren` children of the
# integration tests included, inherits them.
#  - A finding stops the process with exit code 86 (tests/support/
#    sanitizer_report.hpp: kSanitizerExitCode), which no warren command uses,
#    so a test expecting "exit 1" cannot mistake a finding for its refusal;
#    the test helpers also scan a child's stderr for a report and fail the test.
#  - detect_leaks=1: LeakSanitizer runs when a process exits normally
#    (warren returns from main after SIGTERM), so a leak fails it too.
#  - intercept_tls_get_addr=0: GCC 12's runtime (up to GCC 13 and LLVM 16)
#    takes a dynamic TLS block (a plugin's thread_local) for a pre-2.25 glibc
#    one when its address modulo 4096 happens to equal that header's size,
#    reads a bogus range from it, and LeakSanitizer's tracer then dies with
#    "Tracer caught signal 11" at exit, reporting nothing (google/sanitizers
#    #1322; seen as edges exiting 86 now and then). Dynamic TLS is then not
#    scanned for pointers: the thread_locals it holds (the transports' spare
#    buffers) are freed by their threads' exit before the leak check runs.
#  - WARREN_TEST_TIME_SCALE: sanitized code runs 2-3x slower; tests that
#    bound a duration from above stretch the bound by this factor.
_warren_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_warren_supp=$_warren_root/scripts/sanitizers
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:exitcode=86:abort_on_error=0:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=0:intercept_tls_get_addr=0:${WARREN_EXTRA_ASAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$_warren_supp/lsan.supp:print_suppressions=0:exitcode=86"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=86:suppressions=$_warren_supp/ubsan.supp"
export TSAN_OPTIONS="halt_on_error=1:exitcode=86:second_deadlock_stack=1:suppressions=$_warren_supp/tsan.supp"
export WARREN_TEST_TIME_SCALE=${WARREN_TEST_TIME_SCALE:-3}
unset _warren_root _warren_supp

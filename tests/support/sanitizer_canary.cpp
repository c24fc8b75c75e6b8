// A program with a sanitizer finding on demand, to show that the test
// helpers fail a test when a child reports one (sanitizer_report_test.cpp).
//   sanitizer_canary leak           leaks 4 KiB and exits 0
//   sanitizer_canary overflow       writes one byte past a heap block
//   sanitizer_canary leak-on-term   prints "ready", waits for SIGTERM, then
//                                   leaks as it returns from main (as a
//                                   `warren` stopped by a test would)
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <signal.h>

namespace {

void* volatile sink = nullptr;

void leak() {
  sink = std::malloc(4096);
  std::memset(sink, 1, 4096);
  sink = nullptr;  // the only pointer is gone: LeakSanitizer reports it at exit
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  if (std::strcmp(argv[1], "leak") == 0) {
    leak();
    return 0;
  }
  if (std::strcmp(argv[1], "overflow") == 0) {
    auto* block = static_cast<char*>(std::malloc(8));
    sink = block;
    static_cast<char volatile*>(sink)[8] = 1;
    std::free(block);
    return 0;
  }
  if (std::strcmp(argv[1], "leak-on-term") == 0) {
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, nullptr);
    std::puts("ready");
    std::fflush(stdout);
    int signal = 0;
    sigwait(&term, &signal);
    leak();
    return 0;
  }
  return 2;
}

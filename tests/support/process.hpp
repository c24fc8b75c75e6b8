#pragma once
// Runs a real program for a test: arguments without a shell, captured
// stdout and stderr, and a deadline after which it is killed.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace warren::test {

struct ProcessResult {
  int exit_code = -1;  ///< -1 if killed by a signal or by the deadline
  bool timed_out = false;
  std::string out;
  std::string err;
};

/// Runs `argv` (argv[0] is a path) with `env_overrides` ("NAME=value") added
/// to the environment, waiting at most `deadline` (stretched by
/// WARREN_TEST_TIME_SCALE: time_scale.hpp).
ProcessResult run_process(const std::vector<std::string>& argv,
                          std::chrono::milliseconds deadline = std::chrono::seconds(30),
                          const std::vector<std::string>& env_overrides = {});

/// The lines of `text`, without their newlines.
std::vector<std::string> lines(const std::string& text);

}  // namespace warren::test

#pragma once
// A real program running beside a test: stdout read line by line with
// deadlines, stderr kept in a file for failure messages, and a destructor
// that always stops it (SIGTERM, then SIGKILL).

#include <chrono>
#include <filesystem>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace warren::test {

class BackgroundProcess {
 public:
  BackgroundProcess(std::vector<std::string> argv, std::filesystem::path stderr_file);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  /// Every deadline here is stretched by WARREN_TEST_TIME_SCALE (time_scale.hpp:
  /// slower under sanitizers). The first stdout line matching `pattern` (read
  /// since the start), or nullopt after `deadline` or when the program closed stdout.
  std::optional<std::smatch> wait_for_line(const std::regex& pattern, std::chrono::milliseconds deadline);
  /// Every stdout line read so far.
  const std::vector<std::string>& lines() const { return lines_; }

  /// Sends `signal`; returns the exit code if it exits within `deadline`
  /// (-1 for death by signal), else nullopt.
  std::optional<int> stop(int signal, std::chrono::milliseconds deadline);
  /// The exit code if it exited within `deadline`.
  std::optional<int> wait_exit(std::chrono::milliseconds deadline);
  bool running();
  int pid() const { return pid_; }
  std::string stderr_text() const;

 private:
  bool read_more(std::chrono::milliseconds timeout);

  int pid_ = -1;
  int stdout_fd_ = -1;
  std::string partial_;
  std::vector<std::string> lines_;
  std::size_t matched_up_to_ = 0;
  std::optional<int> exit_code_;
  std::filesystem::path stderr_file_;
};

}  // namespace warren::test

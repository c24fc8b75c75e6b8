#include "background_process.hpp"

#include "sanitizer_report.hpp"
#include "time_scale.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace warren::test {

BackgroundProcess::BackgroundProcess(std::vector<std::string> argv, std::filesystem::path stderr_file)
    : stderr_file_(std::move(stderr_file)) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  stdout_fd_ = out[0];
}

BackgroundProcess::~BackgroundProcess() {
  if (!stop(SIGTERM, std::chrono::seconds(5))) stop(SIGKILL, std::chrono::seconds(5));
  if (stdout_fd_ >= 0) close(stdout_fd_);
  // However the test ended it, a sanitizer finding in the child (an error
  // while running, or a leak reported as it exited) fails the test.
  if (pid_ > 0)
    check_no_sanitizer_report("pid " + std::to_string(pid_) + " (stderr in " + stderr_file_.string() + ")", exit_code_,
                              stderr_text());
}

bool BackgroundProcess::read_more(std::chrono::milliseconds timeout) {
  if (stdout_fd_ < 0) return false;
  pollfd fd{stdout_fd_, POLLIN, 0};
  if (poll(&fd, 1, static_cast<int>(timeout.count())) <= 0) return true;
  char buffer[4096];
  ssize_t n = read(stdout_fd_, buffer, sizeof buffer);
  if (n <= 0) {
    close(stdout_fd_);
    stdout_fd_ = -1;
    return false;
  }
  partial_.append(buffer, static_cast<std::size_t>(n));
  for (auto nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n')) {
    lines_.push_back(partial_.substr(0, nl));
    partial_.erase(0, nl + 1);
  }
  return true;
}

std::optional<std::smatch> BackgroundProcess::wait_for_line(const std::regex& pattern,
                                                            std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + scaled(deadline);
  std::size_t next = 0;
  for (;;) {
    for (; next < lines_.size(); ++next) {
      std::smatch match;
      if (std::regex_search(lines_[next], match, pattern)) return match;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !read_more(std::min(left, std::chrono::milliseconds(100)))) {
      for (; next < lines_.size(); ++next) {
        std::smatch match;
        if (std::regex_search(lines_[next], match, pattern)) return match;
      }
      if (left.count() <= 0 || stdout_fd_ < 0) return std::nullopt;
    }
  }
}

std::optional<int> BackgroundProcess::wait_exit(std::chrono::milliseconds deadline) {
  if (exit_code_) return exit_code_;
  if (pid_ <= 0) return std::nullopt;
  auto until = std::chrono::steady_clock::now() + scaled(deadline);
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a child's exit has no fd to wait on
  }
}

std::optional<int> BackgroundProcess::stop(int signal, std::chrono::milliseconds deadline) {
  if (exit_code_) return exit_code_;
  if (pid_ > 0) kill(pid_, signal);
  return wait_exit(deadline);
}

bool BackgroundProcess::running() { return !wait_exit(std::chrono::milliseconds(0)).has_value(); }

std::string BackgroundProcess::stderr_text() const {
  std::ifstream in(stderr_file_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace warren::test

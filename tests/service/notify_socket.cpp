#include "notify_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace warren::test {

NotifySocket::NotifySocket(std::filesystem::path path) : path_(std::move(path)) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path_.string().size() >= sizeof address.sun_path) throw std::runtime_error("socket path too long: " + path_.string());
  std::strcpy(address.sun_path, path_.c_str());
  std::filesystem::remove(path_);
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
    throw std::runtime_error("cannot bind " + path_.string() + ": " + std::strerror(errno));
}

NotifySocket::~NotifySocket() {
  if (fd_ >= 0) ::close(fd_);
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

bool NotifySocket::read_one(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char buffer[4096];
  auto n = ::recv(fd_, buffer, sizeof buffer, 0);
  if (n < 0) return false;
  messages_.emplace_back(buffer, static_cast<std::size_t>(n));
  return true;
}

void NotifySocket::drain() {
  while (read_one(std::chrono::milliseconds(0))) {
  }
}

std::optional<std::string> NotifySocket::wait_for(const std::function<bool(const std::string&)>& match,
                                                  std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  drain();
  for (;;) {
    for (; matched_up_to_ < messages_.size(); ++matched_up_to_)
      if (match(messages_[matched_up_to_])) return messages_[matched_up_to_++];
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    read_one(left);
  }
}

std::optional<std::string> NotifySocket::wait_for(const std::string& text, std::chrono::milliseconds deadline) {
  return wait_for([&](const std::string& m) { return m.find(text) != std::string::npos; }, deadline);
}

std::size_t NotifySocket::count(const std::string& text) const {
  std::size_t n = 0;
  for (const auto& m : messages_) n += m.find(text) != std::string::npos;
  return n;
}

ScopedEnv::ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
  if (const char* old = std::getenv(name_.c_str())) old_ = old;
  ::setenv(name_.c_str(), value.c_str(), 1);
}

ScopedEnv::~ScopedEnv() {
  if (old_) ::setenv(name_.c_str(), old_->c_str(), 1);
  else ::unsetenv(name_.c_str());
}

}  // namespace warren::test

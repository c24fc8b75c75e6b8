#include "streaming_source.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>
#include <stdexcept>

namespace warren::test {

StreamingSource::StreamingSource() {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(listener_, 128) != 0)
    throw std::runtime_error("streaming source cannot listen");
  socklen_t len = sizeof a;
  getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { serve(); });
}

StreamingSource::~StreamingSource() {
  stop_ = true;
  thread_.join();
  std::lock_guard lock(mutex_);
  for (auto& w : workers_) w.join();
  close(listener_);
}

void StreamingSource::serve() {
  while (!stop_) {
    pollfd p{listener_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++connections_;
    std::lock_guard lock(mutex_);
    workers_.emplace_back([this, fd] {
      std::vector<char> zeros(16384, 0);
      while (!stop_) {
        pollfd q{fd, POLLOUT, 0};
        if (poll(&q, 1, 50) <= 0) continue;
        if (q.revents & (POLLERR | POLLHUP)) break;
        auto n = send(fd, zeros.data(), zeros.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) bytes_sent_ += static_cast<std::uint64_t>(n);
        else if (errno != EAGAIN) break;
      }
      close(fd);
    });
  }
}

std::optional<double> metric_value(const std::string& text, const std::string& sample) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > sample.size() && line.compare(0, sample.size(), sample) == 0 && line[sample.size()] == ' ')
      return std::stod(line.substr(sample.size() + 1));
  }
  return std::nullopt;
}

}  // namespace warren::test

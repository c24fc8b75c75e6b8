#include "dnsmasq_server.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>

namespace warren::test {
namespace {

using namespace std::chrono_literals;

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

/// A UDP port that was free a moment ago (the kernel's pick).
std::uint16_t free_udp_port() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  auto a = loopback(0);
  socklen_t length = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length) != 0)
    throw std::runtime_error("cannot find a free UDP port");
  close(fd);
  return ntohs(a.sin_port);
}

/// True once a DNS query to the port gets any reply.
bool answers(std::uint16_t port) {
  unsigned char* query = nullptr;
  int length = 0;
  if (ares_create_query("probe.example.test", 1 /* IN */, 1 /* A */, 0x1234, 1, &query, &length, 0) != ARES_SUCCESS)
    throw std::runtime_error("ares_create_query failed");
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  auto a = loopback(port);
  bool ok = false;
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      send(fd, query, static_cast<std::size_t>(length), 0) == length) {
    pollfd p{fd, POLLIN, 0};
    unsigned char reply[512];
    ok = poll(&p, 1, 200) == 1 && recv(fd, reply, sizeof reply, 0) > 0;
  }
  ares_free_string(query);
  if (fd >= 0) close(fd);
  return ok;
}

}  // namespace

DnsmasqServer::DnsmasqServer(DnsRecords records) : records_(std::move(records)) {
  static int counter = 0;
  log_file_ = (std::filesystem::temp_directory_path() /
               ("warren-dnsmasq-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + ".log"))
                  .string();
  // Another process may take the port between our probe and dnsmasq's bind: try a few.
  for (int attempt = 0;; ++attempt) {
    port_ = free_udp_port();
    try {
      start();
      return;
    } catch (const std::exception&) {
      if (attempt == 4) throw;
    }
  }
}

DnsmasqServer::~DnsmasqServer() {
  stop();
  std::filesystem::remove(log_file_);
}

void DnsmasqServer::start() {
  std::vector<std::string> argv = {"/usr/sbin/dnsmasq",
                                   "--no-daemon",
                                   "--conf-file=/dev/null",
                                   "--port=" + std::to_string(port_),
                                   "--listen-address=127.0.0.1",
                                   "--bind-interfaces",
                                   "--no-resolv",
                                   "--no-hosts",
                                   "--local=/example.test/",
                                   "--pid-file=",
                                   "--user=root",
                                   "--log-facility=-",
                                   "--local-ttl=" + std::to_string(records_.ttl_seconds)};
  for (const auto& s : records_.srv)
    argv.push_back("--srv-host=" + s.name + "," + s.target + "," + std::to_string(s.port) + "," +
                   std::to_string(s.priority) + "," + std::to_string(s.weight));
  for (const auto& h : records_.hosts)
    argv.push_back("--host-record=" + h.name + "," + h.address + "," + std::to_string(records_.ttl_seconds));
  process_ = std::make_unique<BackgroundProcess>(argv, log_file_);
  for (auto deadline = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < deadline;) {
    if (!process_->running()) break;
    if (answers(port_)) return;
  }
  auto why = process_->stderr_text();
  process_.reset();
  throw std::runtime_error("dnsmasq did not answer on port " + std::to_string(port_) + ": " + why);
}

void DnsmasqServer::stop() {
  if (!process_) return;
  process_->stop(SIGTERM, 5s);
  process_.reset();
}

void DnsmasqServer::restart(DnsRecords records) {
  stop();
  records_ = std::move(records);
  start();
}

}  // namespace warren::test

#include "dnsdist_server.hpp"

#include "dns_message.hpp"
#include "loopback_address.hpp"

#include <arpa/inet.h>
#include <fstream>
#include <poll.h>
#include <random>
#include <regex>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace warren::test {
namespace {

using namespace std::chrono_literals;

/// A UDP port nobody is bound to now, below the ephemeral range (where other
/// tests' "port 0" picks land).
std::uint16_t free_udp_port_below_ephemeral() {
  static std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> pick(20000, 32000);
  for (int i = 0; i < 1000; ++i) {
    auto port = static_cast<std::uint16_t>(pick(random));
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    auto a = loopback(port);
    bool ok = fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (fd >= 0) close(fd);
    if (ok) return port;
  }
  throw std::runtime_error("cannot find a free UDP port for dnsdist");
}

/// A query with a hand-written UDP4 PROXY v2 header naming 192.0.2.254:1 as
/// the client: answered with 192.0.2.254 only by our dnsdist.
bool answers_probe(std::uint16_t port) {
  std::vector<std::uint8_t> d = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
                                 0x21, 0x12, 0x00, 12,   192,  0,    2,    254,  127,  0,    0,    1,
                                 0x00, 0x01, 0x00, 53};
  auto query = dns_a_query(0x5150, "probe.example.test");
  d.insert(d.end(), query.begin(), query.end());
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  auto a = loopback(port);
  bool ok = false;
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      send(fd, d.data(), d.size(), 0) == static_cast<ssize_t>(d.size())) {
    pollfd p{fd, POLLIN, 0};
    std::vector<std::uint8_t> reply(512);
    ssize_t n = poll(&p, 1, 200) == 1 ? recv(fd, reply.data(), reply.size(), 0) : -1;
    if (n > 0) {
      reply.resize(static_cast<std::size_t>(n));
      ok = dns_first_a(reply, 0x5150) == "192.0.2.254";
    }
  }
  if (fd >= 0) close(fd);
  return ok;
}

}  // namespace

DnsdistServer::DnsdistServer() {
  static int counter = 0;
  dir_ = std::filesystem::temp_directory_path() /
         ("warren-dnsdist-" + std::to_string(getpid()) + "-" + std::to_string(++counter));
  std::filesystem::create_directories(dir_);
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_udp_port_below_ephemeral();
    auto config = dir_ / "dnsdist.conf";
    std::ofstream(config) << "setLocal(\"127.0.0.1:" << port_ << "\")\n"
                          << "setProxyProtocolACL({\"127.0.0.0/8\"})\n"
                          << "setSecurityPollSuffix(\"\")\n"
                          << "function answer(dq)\n"
                          << "  infolog(\"proxied query from \" .. dq.remoteaddr:toStringWithPort() .. \" to \" .. "
                             "dq.localaddr:toStringWithPort())\n"
                          << "  return DNSAction.Spoof, dq.remoteaddr:toString()\n"
                          << "end\n"
                          << "addAction(AllRule(), LuaAction(answer))\n";
    process_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{dnsdist_path, "--supervised", "--disable-syslog", "-C", config.string()},
        dir_ / "dnsdist.err");
    for (auto until = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < until;) {
      if (answers_probe(port_)) return;
      if (!process_->running()) break;  // the port was taken after all: try another
    }
    process_.reset();
  }
  throw std::runtime_error("dnsdist did not answer a proxied probe");
}

DnsdistServer::~DnsdistServer() {
  process_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::optional<std::string> DnsdistServer::wait_query_from(const std::string& client,
                                                          std::chrono::milliseconds deadline) {
  std::string escaped = std::regex_replace(client, std::regex(R"([.\[\]])"), R"(\$&)");
  auto line = process_->wait_for_line(std::regex("proxied query from " + escaped + " to (\\S+)"), deadline);
  if (!line) return std::nullopt;
  return (*line)[1].str();
}

}  // namespace warren::test

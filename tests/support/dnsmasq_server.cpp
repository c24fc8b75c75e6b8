#include "dnsmasq_server.hpp"

#include "loopback_address.hpp"

#include <ares.h>

#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <random>
#include <signal.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace warren::test {
namespace {

using namespace std::chrono_literals;

bool bindable(int type, std::uint16_t port) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  auto a = loopback(port);
  bool ok = fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (fd >= 0) close(fd);
  return ok;
}

/// A port free for UDP and TCP (dnsmasq binds both), drawn below the
/// kernel's ephemeral range (32768+), where other tests' "port 0" picks land.
std::uint16_t free_port() {
  static std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> pick(20000, 32000);
  for (int i = 0; i < 1000; ++i) {
    auto port = static_cast<std::uint16_t>(pick(random));
    if (bindable(SOCK_DGRAM, port) && bindable(SOCK_STREAM, port)) return port;
  }
  throw std::runtime_error("cannot find a free port for dnsmasq");
}

enum class Probe { silent, answered, someone_else };

/// Asks the port for `name`'s A record: `answered` when it is `address`.
/// dnsmasq binds with SO_REUSEADDR, so a dnsmasq of another test on the
/// same port would share it; it does not know `name` and says NXDOMAIN.
Probe probe(std::uint16_t port, const std::string& name, const std::string& address) {
  unsigned char* query = nullptr;
  int length = 0;
  if (ares_create_query(name.c_str(), 1 /* IN */, 1 /* A */, 0x1234, 1, &query, &length, 0) != ARES_SUCCESS)
    throw std::runtime_error("ares_create_query failed");
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  auto a = loopback(port);
  Probe result = Probe::silent;
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      send(fd, query, static_cast<std::size_t>(length), 0) == length) {
    pollfd p{fd, POLLIN, 0};
    unsigned char reply[512];
    ssize_t n = poll(&p, 1, 200) == 1 ? recv(fd, reply, sizeof reply, 0) : -1;
    if (n >= 12) {
      // The answer's last 4 bytes are the address of its single A record.
      in_addr expected{};
      inet_pton(AF_INET, address.c_str(), &expected);
      bool one_answer = (reply[3] & 0x0f) == 0 && (reply[6] << 8 | reply[7]) == 1;
      bool matches = one_answer && std::memcmp(reply + n - 4, &expected, 4) == 0;
      result = matches ? Probe::answered : (reply[3] & 0x0f) == 3 ? Probe::someone_else : Probe::silent;
    }
  }
  ares_free_string(query);
  if (fd >= 0) close(fd);
  return result;
}

}  // namespace

DnsmasqServer::DnsmasqServer(DnsRecords records) : records_(std::move(records)) {
  static int counter = 0;
  dir_ = std::filesystem::temp_directory_path() /
         ("warren-dnsmasq-" + std::to_string(getpid()) + "-" + std::to_string(++counter));
  std::filesystem::create_directories(dir_ / "hosts");
  write_hosts(records_.hosts);
  for (int attempt = 0;; ++attempt) {
    port_ = free_port();
    try {
      start();
      return;
    } catch (const std::exception& e) {
      if (attempt == 4) throw;
      std::fprintf(stderr, "dnsmasq_server: %s; trying another port\n", e.what());
    }
  }
}

DnsmasqServer::~DnsmasqServer() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void DnsmasqServer::write_hosts(const std::vector<HostRecord>& hosts) {
  // Written whole, then renamed: dnsmasq never reads half a file.
  auto temporary = dir_ / "hosts.tmp";
  {
    std::ofstream out(temporary);
    for (const auto& h : hosts) out << h.address << " " << h.name << "\n";
  }
  std::filesystem::rename(temporary, dir_ / "hosts" / "records");
}

void DnsmasqServer::start() {
  probe_name_ = "probe-" + std::to_string(getpid()) + "-" + std::to_string(port_) + ".example.test";
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
                                   "--log-queries",
                                   "--local-ttl=" + std::to_string(records_.ttl_seconds),
                                   "--hostsdir=" + (dir_ / "hosts").string(),
                                   "--host-record=" + probe_name_ + ",127.0.0.1"};
  for (const auto& s : records_.srv)
    argv.push_back("--srv-host=" + s.name + "," + s.target + "," + std::to_string(s.port) + "," +
                   std::to_string(s.priority) + "," + std::to_string(s.weight));
  process_ = std::make_unique<BackgroundProcess>(argv, dir_ / "dnsmasq.log");
  for (auto deadline = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < deadline;) {
    if (!process_->running()) break;
    auto found = probe(port_, probe_name_, "127.0.0.1");
    if (found == Probe::answered) return;
    if (found == Probe::someone_else) {
      process_.reset();
      throw std::runtime_error("another DNS server answers on port " + std::to_string(port_));
    }
  }
  auto why = process_->stderr_text();
  process_.reset();
  throw std::runtime_error("dnsmasq did not answer on port " + std::to_string(port_) + ": " + why);
}

void DnsmasqServer::set_hosts(const std::vector<HostRecord>& hosts, const HostRecord& changed) {
  write_hosts(hosts);
  for (auto deadline = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < deadline;)
    if (probe(port_, changed.name, changed.address) == Probe::answered) return;
  throw std::runtime_error("dnsmasq did not pick up " + changed.name + " = " + changed.address);
}

std::string DnsmasqServer::log() const { return process_ ? process_->stderr_text() : "(stopped)"; }

void DnsmasqServer::stop() {
  if (!process_) return;
  process_->stop(SIGTERM, 5s);
  process_.reset();
}

}  // namespace warren::test

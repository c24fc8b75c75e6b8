#include "udp_tunnel_fixture.hpp"

#include "loopback_services.hpp"
#include "process.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <random>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>
#include <unordered_map>

namespace warren::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

sockaddr_in ipv4(const std::string& ip, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1) throw std::runtime_error("not an IPv4 address: " + ip);
  return a;
}

std::string warren_binary() {
  const char* other = std::getenv("WARREN_TEST_BINARY");
  return other && *other ? other : WARREN_BINARY;
}

}  // namespace

std::string fetch_metrics(std::uint16_t port) {
  return run_process({"/usr/bin/curl", "-s", "-m", "5", "http://127.0.0.1:" + std::to_string(port) + "/metrics"}).out;
}

std::optional<double> labelled_metric(const std::string& text, const std::string& name,
                                      const std::map<std::string, std::string>& labels) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.compare(0, name.size(), name) != 0 || line.size() <= name.size()) continue;
    char next = line[name.size()];
    if (next != ' ' && next != '{') continue;
    auto value_at = line.rfind(' ');
    std::string label_text = next == '{' ? line.substr(name.size(), value_at - name.size()) : "";
    bool all = true;
    for (const auto& [key, value] : labels)
      all = all && label_text.find(key + "=\"" + value + "\"") != std::string::npos;
    if (all) return std::stod(line.substr(value_at + 1));
  }
  return std::nullopt;
}

UdpEdge::UdpEdge(const std::filesystem::path& dir, UdpEdgeOptions o) : public_port_(free_udp_port()) {
  EdgeOptions options;
  options.public_ports = std::to_string(public_port_) + "-" + std::to_string(public_port_);
  options.more_tunnels = "kind = \"udp\"\n" + o.tunnel_keys;
  if (o.http2) {
    options.listen_port = free_tcp_port();  // quic on its UDP number, http2 on its TCP one
    options.more_tunnels +=
        "\n[[listen]]\nplugin = \"http2\"\naddress = \"127.0.0.1:" + std::to_string(options.listen_port) + "\"\n";
  }
  edge_ = std::make_unique<Edge>(dir, options);
}

std::optional<double> UdpEdge::metric(const std::string& name, std::map<std::string, std::string> labels) const {
  labels.emplace("tunnel", "web");
  return labelled_metric(edge_->metrics(), name, labels);
}

UdpConnector::UdpConnector(const std::filesystem::path& dir, UdpConnectorOptions o)
    : dir_(dir), name_(o.name), admin_port_(free_tcp_port()) {
  std::ofstream(dir / (o.name + ".toml"))
      << "[tunnel]\nid = \"web\"\ntoken = \"s3cret\"\nha_connections = " << o.ha_connections << "\n"
      << "edge_fingerprint = \"" << o.pin << "\"\ngrace_period = \"1s\"\nstagger = \"100ms\"\n"
      << "[[transport]]\nplugin = \"" << o.transport << "\"\n"
      << "[discovery]\nplugin = \"static\"\nedges = [\"127.0.0.1:" << o.edge_port << "\"]\n"
      << "[backend]\nplugin = \"udp\"\n" << o.backend << "\n"
      << "[[policy]]\nplugin = \"backoff\"\nbase = \"100ms\"\nmax = \"1s\"\n"
      << "[admin]\naddress = \"127.0.0.1:" << admin_port_ << "\"\n";
  start();
}

void UdpConnector::start() {
  process_.reset();  // the previous run, if any, is stopped first
  process_ = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{warren_binary(), "connect", "--config", (dir_ / (name_ + ".toml")).string()},
      dir_ / (name_ + ".err"));
}

void UdpConnector::restart() { start(); }

bool UdpConnector::wait_registered(std::chrono::milliseconds deadline) {
  if (process_->wait_for_line(std::regex(R"(^tunnel web \S+$)"), deadline)) return true;
  // Said with the caller's failed check (CI once saw a connector not register
  // in 10 s with nothing to tell why).
  UNSCOPED_INFO("the connector did not register; its stderr:\n" << process_->stderr_text());
  return false;
}

std::optional<double> UdpConnector::metric(const std::string& name,
                                           const std::map<std::string, std::string>& labels) const {
  return labelled_metric(fetch_metrics(admin_port_), name, labels);
}

UdpEchoServer::UdpEchoServer() {
  fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  auto a = ipv4("127.0.0.1", 0);
  socklen_t len = sizeof a;
  int receive_buffer = 4 << 20;
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot bind the UDP echo server");
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] {
    std::vector<std::uint8_t> buffer(65536);
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) != 1) continue;
      sockaddr_in from{};
      socklen_t from_len = sizeof from;
      auto n = recvfrom(fd_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 0) continue;
      ++datagrams_;
      sendto(fd_, buffer.data(), static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), from_len);
    }
  });
}

UdpEchoServer::~UdpEchoServer() {
  stop_ = true;
  thread_.join();
  close(fd_);
}

UdpClient::UdpClient(std::uint16_t port, const std::string& source_ip) : source_ip_(source_ip) {
  fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  auto local = ipv4(source_ip, 0);
  auto remote = ipv4("127.0.0.1", port);
  int buffer = 4 << 20;
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  socklen_t len = sizeof local;
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      connect(fd_, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len) != 0)
    throw std::runtime_error("cannot open a UDP client socket from " + source_ip);
  local_port_ = ntohs(local.sin_port);
}

UdpClient::~UdpClient() { close(fd_); }

std::string UdpClient::address() const { return source_ip_ + ":" + std::to_string(local_port_); }

bool UdpClient::send(const std::vector<std::uint8_t>& datagram) {
  return ::send(fd_, datagram.data(), datagram.size(), 0) == static_cast<ssize_t>(datagram.size());
}

std::optional<std::vector<std::uint8_t>> UdpClient::receive(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
  std::vector<std::uint8_t> buffer(65536);
  auto n = recv(fd_, buffer.data(), buffer.size(), 0);
  if (n < 0) return std::nullopt;  // e.g. ECONNREFUSED while nothing listened on the public port
  buffer.resize(static_cast<std::size_t>(n));
  return buffer;
}

std::optional<std::vector<std::uint8_t>> UdpClient::exchange(const std::vector<std::uint8_t>& datagram,
                                                             std::chrono::milliseconds deadline,
                                                             std::chrono::milliseconds every) {
  for (auto until = Clock::now() + deadline; Clock::now() < until;) {
    send(datagram);
    if (auto got = receive(every)) return got;
  }
  return std::nullopt;
}

namespace {

/// One client's share of an echo run, on its own thread.
EchoRun echo_one(UdpClient& client, std::size_t count, std::uint64_t seed, std::size_t window) {
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<std::size_t> size(1, 1200);
  std::uniform_int_distribution<int> byte(0, 255);
  // Outstanding datagrams by content: small ones may repeat, and a match on
  // content is what "byte-exact" means.
  std::unordered_map<std::string, std::size_t> outstanding, echoed_by_content;
  EchoRun run;
  std::size_t in_flight = 0;
  auto start = Clock::now();
  auto take = [&](const std::vector<std::uint8_t>& got) {
    std::string key(got.begin(), got.end());
    auto it = outstanding.find(key);
    if (it != outstanding.end() && it->second > 0) {
      if (--it->second == 0) outstanding.erase(it);
      ++echoed_by_content[key];
      ++run.echoed;
      if (in_flight > 0) --in_flight;
    } else if (echoed_by_content.count(key)) {
      ++run.duplicated;
    } else {
      ++run.corrupted;
    }
  };
  while (run.sent < count) {
    while (in_flight < window && run.sent < count) {
      std::vector<std::uint8_t> d(size(random));
      for (auto& b : d) b = static_cast<std::uint8_t>(byte(random));
      if (!client.send(d)) continue;  // not sent: not counted, the same slot draws anew
      ++outstanding[std::string(d.begin(), d.end())];
      ++run.sent;
      ++in_flight;
    }
    if (auto got = client.receive(300ms))
      take(*got);
    else
      in_flight = 0;  // the window's echoes are late or lost: write them off, keep going
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();  // the rate leaves out the wait below
  while (auto got = client.receive(500ms)) take(*got);                       // stragglers
  return run;
}

}  // namespace

EchoRun echo_through(std::vector<UdpClient*> clients, std::size_t count_per_client, std::uint64_t seed,
                     std::size_t window) {
  std::vector<EchoRun> runs(clients.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < clients.size(); ++i)
    threads.emplace_back([&, i] { runs[i] = echo_one(*clients[i], count_per_client, seed + i, window); });
  for (auto& t : threads) t.join();
  EchoRun total;
  for (const auto& r : runs) {
    total.sent += r.sent;
    total.echoed += r.echoed;
    total.corrupted += r.corrupted;
    total.duplicated += r.duplicated;
    total.seconds = std::max(total.seconds, r.seconds);  // they ran side by side
  }
  return total;
}

}  // namespace warren::test

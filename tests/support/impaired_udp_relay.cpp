#include "impaired_udp_relay.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <map>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <random>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace warren::test {
namespace {

using Clock = std::chrono::steady_clock;

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

int udp_socket() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("relay socket: ") + std::strerror(errno));
  // Bursts of a 1 MiB echo must not be lost in the relay's own queues:
  // only the loss it is told to make.
  int size = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  return fd;
}

std::uint64_t key_of(const sockaddr_in& a) { return (std::uint64_t{a.sin_addr.s_addr} << 16) | a.sin_port; }

}  // namespace

/// The relay thread's own state: nothing here is shared.
struct ImpairedUdpRelay::Loop {
  struct Client {
    sockaddr_in address{};
    int back = -1;  ///< connected to the target
  };
  struct Held {
    int fd = -1;
    std::optional<sockaddr_in> to;  ///< set: sendto on the front socket; else send on a connected back socket
    std::vector<std::uint8_t> bytes;
  };
  std::map<std::uint64_t, Client> clients;
  std::multimap<Clock::time_point, Held> held;
  std::mt19937_64 random;
  std::uniform_real_distribution<double> unit{0.0, 1.0};

  explicit Loop(std::uint64_t seed) : random(seed) {}
  ~Loop() {
    for (auto& [key, client] : clients) close(client.back);
  }
  bool chance(double p) { return p > 0 && unit(random) < p; }
};

ImpairedUdpRelay::ImpairedUdpRelay(std::uint16_t target_port, std::uint64_t seed, std::string target_host)
    : target_port_(target_port), seed_(seed) {
  if (inet_pton(AF_INET, target_host.c_str(), &target_address_) != 1)
    throw std::runtime_error("relay target is not an IPv4 address: " + target_host);
  front_ = udp_socket();
  auto at = loopback(0);
  socklen_t size = sizeof at;
  if (bind(front_, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0 ||
      getsockname(front_, reinterpret_cast<sockaddr*>(&at), &size) != 0) {
    close(front_);
    throw std::runtime_error(std::string("relay bind: ") + std::strerror(errno));
  }
  port_ = ntohs(at.sin_port);
  thread_ = std::thread([this] { run(); });
}

ImpairedUdpRelay::~ImpairedUdpRelay() {
  stop_ = true;
  thread_.join();
  close(front_);
}

void ImpairedUdpRelay::set(const UdpImpairment& impairment) {
  std::lock_guard lock(mutex_);
  impairment_ = impairment;
}

ImpairedUdpRelay::Counts ImpairedUdpRelay::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

void ImpairedUdpRelay::run() {
  Loop loop(seed_);
  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_addr.s_addr = target_address_;
  target.sin_port = htons(target_port_);
  std::vector<std::uint8_t> buffer(65536);

  auto send_now = [&](const Loop::Held& h) {
    if (h.to)
      sendto(h.fd, h.bytes.data(), h.bytes.size(), 0, reinterpret_cast<const sockaddr*>(&*h.to), sizeof *h.to);
    else
      send(h.fd, h.bytes.data(), h.bytes.size(), 0);
  };
  // One datagram in: drop, hold, send (and maybe send again).
  auto pass = [&](Loop::Held datagram) {
    UdpImpairment now;
    {
      std::lock_guard lock(mutex_);
      now = impairment_;
      ++counts_.received;
    }
    bool drop = loop.chance(now.loss);
    bool hold = !drop && loop.chance(now.reorder) && now.reorder_delay.count() > 0;
    bool twice = !drop && loop.chance(now.duplicate);
    auto delay = std::chrono::microseconds(
        static_cast<std::int64_t>(loop.unit(loop.random) * 1000.0 * static_cast<double>(now.reorder_delay.count())) +
        1);
    {
      std::lock_guard lock(mutex_);
      counts_.dropped += drop;
      counts_.reordered += hold;
      counts_.duplicated += twice;
    }
    if (drop) return;
    if (twice) send_now(datagram);
    if (hold)
      loop.held.emplace(Clock::now() + delay, std::move(datagram));
    else
      send_now(datagram);
  };

  std::vector<pollfd> fds;
  std::vector<std::uint64_t> keys;  // fds[i + 1] belongs to clients[keys[i]]
  while (!stop_) {
    fds.assign(1, pollfd{front_, POLLIN, 0});
    keys.clear();
    for (auto& [key, client] : loop.clients) {
      fds.push_back({client.back, POLLIN, 0});
      keys.push_back(key);
    }
    int timeout = 20;  // also how soon a stop is seen
    if (!loop.held.empty()) {
      auto wait = std::chrono::ceil<std::chrono::milliseconds>(loop.held.begin()->first - Clock::now()).count();
      timeout = static_cast<int>(std::clamp<std::int64_t>(wait, 0, timeout));
    }
    poll(fds.data(), fds.size(), timeout);

    for (auto now = Clock::now(); !loop.held.empty() && loop.held.begin()->first <= now;) {
      send_now(loop.held.begin()->second);
      loop.held.erase(loop.held.begin());
    }
    if (fds[0].revents & POLLIN) {
      for (int burst = 0; burst < 256; ++burst) {
        sockaddr_in from{};
        socklen_t size = sizeof from;
        auto n = recvfrom(front_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &size);
        if (n < 0) break;
        auto& client = loop.clients[key_of(from)];
        if (client.back < 0) {
          client.address = from;
          client.back = udp_socket();
          auto any = loopback(0);
          bind(client.back, reinterpret_cast<sockaddr*>(&any), sizeof any);
          connect(client.back, reinterpret_cast<const sockaddr*>(&target), sizeof target);
        }
        pass({client.back, std::nullopt, {buffer.begin(), buffer.begin() + n}});
      }
    }
    for (std::size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      auto& client = loop.clients[keys[i - 1]];
      for (int burst = 0; burst < 256; ++burst) {
        auto n = recv(client.back, buffer.data(), buffer.size(), 0);
        if (n < 0) break;
        pass({front_, client.address, {buffer.begin(), buffer.begin() + n}});
      }
    }
  }
}

}  // namespace warren::test

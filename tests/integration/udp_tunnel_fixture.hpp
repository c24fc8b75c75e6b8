#pragma once
// UDP tunnels with real processes: an edge whose tunnel "web" has kind =
// "udp" on a public UDP port, a connector whose backend is the udp plugin,
// a UDP echo service, and client sockets that send from a chosen loopback
// address. Shared by the UDP tunnel tests (udp_tunnel_*_test.cpp).

#include "background_process.hpp"
#include "tunnel_fixture.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace warren::test {

/// GET http://127.0.0.1:port/metrics (empty when nothing answers).
std::string fetch_metrics(std::uint16_t port);

/// The sample of `name` whose labels include every one of `labels` (in any
/// order) in Prometheus text; nullopt if absent. {} matches a sample without
/// labels or the first sample of that name.
std::optional<double> labelled_metric(const std::string& text, const std::string& name,
                                      const std::map<std::string, std::string>& labels = {});

struct UdpEdgeOptions {
  std::string tunnel_keys;  ///< more keys of the udp [[tunnels]] table, e.g. "flow_requests = 1\n"
  bool http2 = false;       ///< also listen with http2 (TCP) on the QUIC port's number
};

/// `warren edge` with one kind = "udp" tunnel "web" (token "s3cret"), public
/// on 127.0.0.1:public_port() (UDP).
class UdpEdge {
 public:
  UdpEdge(const std::filesystem::path& dir, UdpEdgeOptions options = {});
  std::uint16_t public_port() const { return public_port_; }
  Edge& edge() { return *edge_; }
  /// The edge's udp metric `name` for tunnel "web" with `labels` added.
  std::optional<double> metric(const std::string& name, std::map<std::string, std::string> labels = {}) const;

 private:
  std::uint16_t public_port_ = 0;
  std::unique_ptr<Edge> edge_;
};

struct UdpConnectorOptions {
  std::string pin;
  std::uint16_t edge_port = 0;
  std::string backend;  ///< the [backend] table's lines after plugin = "udp", e.g. "address = \"127.0.0.1:53\""
  std::string transport = "quic";
  unsigned ha_connections = 2;
  std::string name = "connector";  ///< files NAME.toml and NAME.err
};

/// `warren connect` for tunnel "web" with a udp backend and an [admin]
/// address for its /metrics. The config stays, so restart() runs it again.
class UdpConnector {
 public:
  UdpConnector(const std::filesystem::path& dir, UdpConnectorOptions options);
  BackgroundProcess& process() { return *process_; }
  /// Waits for "tunnel web ADDRESS" on stdout (of this run of the process).
  bool wait_registered(std::chrono::milliseconds deadline);
  /// The connector's metric `name` with `labels`.
  std::optional<double> metric(const std::string& name, const std::map<std::string, std::string>& labels = {}) const;
  /// Starts the same config again (after a kill).
  void restart();
  /// Its [admin] port (/metrics, /status).
  std::uint16_t admin_port() const { return admin_port_; }

 private:
  void start();
  std::filesystem::path dir_;
  std::string name_;
  std::uint16_t admin_port_ = 0;
  std::unique_ptr<BackgroundProcess> process_;
};

/// Echoes every datagram to its sender, from one thread, until destroyed.
class UdpEchoServer {
 public:
  UdpEchoServer();
  ~UdpEchoServer();
  std::uint16_t port() const { return port_; }
  std::uint64_t datagrams() const { return datagrams_.load(); }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> datagrams_{0};
  std::thread thread_;
};

/// A client socket bound to `source_ip`:any port and connected to
/// 127.0.0.1:port, with a 4 MiB receive buffer.
class UdpClient {
 public:
  UdpClient(std::uint16_t port, const std::string& source_ip = "127.0.0.1");
  ~UdpClient();
  UdpClient(const UdpClient&) = delete;
  UdpClient& operator=(const UdpClient&) = delete;

  std::uint16_t local_port() const { return local_port_; }
  /// "ip:port" as the edge sees this client.
  std::string address() const;
  /// False when the kernel refused it (e.g. ECONNREFUSED from an earlier ICMP error).
  bool send(const std::vector<std::uint8_t>& datagram);
  /// The next datagram, or nullopt after `timeout`.
  std::optional<std::vector<std::uint8_t>> receive(std::chrono::milliseconds timeout);
  /// Sends `datagram` every `every` until something comes back or `deadline`
  /// passes; returns what came back (a tunnel that is still being set up
  /// drops datagrams; this is how a test waits for it to carry them).
  std::optional<std::vector<std::uint8_t>> exchange(const std::vector<std::uint8_t>& datagram,
                                                    std::chrono::milliseconds deadline,
                                                    std::chrono::milliseconds every = std::chrono::milliseconds(200));

 private:
  int fd_ = -1;
  std::string source_ip_;
  std::uint16_t local_port_ = 0;
};

/// What an echo run through the tunnel measured.
struct EchoRun {
  std::size_t sent = 0;
  std::size_t echoed = 0;      ///< distinct datagrams that came back byte for byte
  std::size_t corrupted = 0;   ///< came back but matched nothing that was sent
  std::size_t duplicated = 0;  ///< came back more often than sent
  double seconds = 0;
  double loss_percent() const { return sent ? 100.0 * static_cast<double>(sent - echoed) / static_cast<double>(sent) : 0; }
  double per_second() const { return seconds > 0 ? static_cast<double>(echoed) / seconds : 0; }
};

/// Sends `count` datagrams of seeded random sizes 1..1,200 B and contents
/// from each client (concurrently, one thread each) to the echo behind the
/// tunnel and matches every echo against what was sent, byte for byte.
/// Paced: at most `window` datagrams per client in flight (sent, not yet
/// echoed), so a receive buffer never overflows and loss measures the tunnel;
/// a window whose echoes do not come within 300 ms is written off as lost.
EchoRun echo_through(std::vector<UdpClient*> clients, std::size_t count_per_client, std::uint64_t seed,
                     std::size_t window = 32);

}  // namespace warren::test

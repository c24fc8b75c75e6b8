// Byte counters on both sides' /metrics grow while a long transfer is
// still running, not only when its stream ends: a backend that streams
// zeros forever, a public client that keeps reading, and /metrics read
// twice in the middle.

#include "loopback_services.hpp"
#include "process.hpp"
#include "tunnel_fixture.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <functional>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace warren::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

/// Connects to 127.0.0.1:port and reads (and drops) everything until stopped.
class Reader {
 public:
  explicit Reader(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("cannot connect to the public port");
    timeval tv{0, 200'000};  // wake up to see stop_
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread_ = std::thread([this] {
      std::vector<char> buffer(64 * 1024);
      while (!stop_) {
        auto n = ::recv(fd_, buffer.data(), buffer.size(), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
        if (n > 0) read_ += static_cast<std::uint64_t>(n);
      }
    });
  }
  ~Reader() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint64_t bytes() const { return read_.load(); }

 private:
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> read_{0};
  std::thread thread_;
};

}  // namespace

TEST_CASE("bytes in both sides' metrics grow while a long transfer is still running") {
  TempDir dir;
  ScriptedBackend zeros('z');  // every connection: zeros, forever
  Edge edge(dir.path);
  const auto admin = free_tcp_port();
  Connector connector(dir.path, {.pin = edge.pin(),
                                 .edge_port = edge.quic_port(),
                                 .backend_port = zeros.port(),
                                 .transport_extra = "[admin]\naddress = \"127.0.0.1:" + std::to_string(admin) + "\""});
  REQUIRE(connector.wait_registered(15s));
  INFO(connector.process().stderr_text());
  auto connector_metric = [&](const std::string& sample) {
    auto r = run_process({"/usr/bin/curl", "-s", "-m", "5", "http://127.0.0.1:" + std::to_string(admin) + "/metrics"});
    return metric_value(r.out, sample).value_or(0);
  };
  const std::string edge_sample = "warren_tunnel_bytes_total{tunnel=\"web\",direction=\"from_connector\"}";
  const std::string connector_sample = "warren_connector_bytes_total{direction=\"from_backend\"}";

  Reader client(edge.public_port());
  // 1 MiB through, and the one stream still open on both sides.
  REQUIRE(eventually([&] { return client.bytes() > (1u << 20); }, 20s));
  double edge_first = 0, connector_first = 0;
  REQUIRE(eventually([&] { return (edge_first = edge.metric(edge_sample).value_or(0)) > (1u << 20); }, 10s));
  REQUIRE(eventually([&] { return (connector_first = connector_metric(connector_sample)) > (1u << 20); }, 10s));
  CHECK(edge.metric("warren_streams_active") == 1.0);
  CHECK(edge.metric("warren_tunnel_streams_active{tunnel=\"web\"}") == 1.0);
  CHECK(edge.metric("warren_bytes_total{direction=\"from_connector\"}").value_or(0) >= edge_first);
  // More later, the same stream still running.
  const auto seen = client.bytes();
  REQUIRE(eventually([&] { return client.bytes() > seen + (1u << 20); }, 20s));
  CHECK(edge.metric(edge_sample).value_or(0) > edge_first);
  CHECK(connector_metric(connector_sample) > connector_first);
  CHECK(edge.metric("warren_streams_active") == 1.0);
  CHECK(connector_metric("warren_connector_leg_streams_open{leg=\"0\"}") +
            connector_metric("warren_connector_leg_streams_open{leg=\"1\"}") ==
        1.0);
  CHECK(connector_metric("warren_connector_streams_total") == 1.0);
  // The one stream's leg carries its bytes, live, and the legs add up to the total.
  auto leg_bytes = [&](int leg) {
    return connector_metric("warren_connector_leg_bytes_total{leg=\"" + std::to_string(leg) +
                            "\",direction=\"from_backend\"}");
  };
  double legs_before = leg_bytes(0) + leg_bytes(1);
  CHECK(legs_before > connector_first);
  CHECK(std::min(leg_bytes(0), leg_bytes(1)) == 0.0);
  REQUIRE(eventually([&] { return leg_bytes(0) + leg_bytes(1) > legs_before; }, 10s));
  CHECK(connector.process().stop(SIGTERM, 10s).has_value());
}

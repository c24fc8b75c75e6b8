#pragma once
// A tunnel across a network namespace pair (tests/support/netns_pair.hpp),
// for the kernel-fault tests: a real `warren edge` in namespace a (QUIC on
// a's veth address, its public port on a's loopback), a real `warren
// connect` and its backend in namespace b, so nftables rules in either
// namespace cut the path between them.

#include "background_process.hpp"
#include "netns_pair.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace warren::test {

/// Puts the calling thread in a namespace of `net` until destroyed. Sockets
/// keep the namespace they were made in, so an echo server built here serves
/// inside it, and a client connects from inside it.
class InNamespace {
 public:
  InNamespace(const NetnsPair& net, NetnsPair::Side side);
  ~InNamespace();
  InNamespace(const InNamespace&) = delete;
  InNamespace& operator=(const InNamespace&) = delete;

 private:
  int home_ = -1;
};

/// The pair, or a SKIPPED exit saying why it cannot exist here.
std::unique_ptr<NetnsPair> make_pair_or_skip();

/// The edge's public port in namespace a (fresh: every port is free there).
inline constexpr std::uint16_t kNetnsPublicPort = 20000;
/// The edge's port for both transports when it listens with http2 too, as
/// cloudflared's 7844 (UDP for QUIC, TCP for HTTP/2).
inline constexpr std::uint16_t kNetnsEdgePort = 7844;

/// `warren edge` in namespace a.
struct NamespacedEdge {
  std::unique_ptr<BackgroundProcess> process;
  std::uint16_t quic_port = 0;
  std::string pin;

  /// With `http2`, QUIC and HTTP/2 listen on kNetnsEdgePort; without, QUIC
  /// alone on a free port. The edge assigns a 200 ms heartbeat interval.
  NamespacedEdge(const NetnsPair& net, const std::filesystem::path& dir, bool http2 = false);
};

struct NamespacedConnectorOptions {
  std::string name = "connector";  ///< its config and log file names
  /// `[[transport]] plugin = "http2"` after quic: the fallback.
  bool http2_fallback = false;
  std::uint16_t admin_port = 0;  ///< 0: no [admin]; else 127.0.0.1:PORT inside namespace b
  std::string grace_period = "1s";
  std::string extra_config;  ///< TOML appended to the config (e.g. a [[policy]] table)
  std::vector<std::string> extra_args;
};

/// `warren connect` in namespace b, two legs, dialing the edge across the veth pair.
std::unique_ptr<BackgroundProcess> start_namespaced_connector(const NetnsPair& net, const std::filesystem::path& dir,
                                                              const NamespacedEdge& edge, std::uint16_t backend_port,
                                                              const NamespacedConnectorOptions& options = {});

/// GET http://127.0.0.1:`port``path` from inside `side` (curl); the body, or
/// nullopt without a 200 answer.
std::optional<std::string> http_get_in(const NetnsPair& net, NetnsPair::Side side, std::uint16_t port,
                                       const std::string& path);

/// Legs whose /status entry says registered over `transport` (the connector's
/// [admin] in namespace b).
int legs_registered_over(const NetnsPair& net, std::uint16_t admin_port, const std::string& transport);

}  // namespace warren::test

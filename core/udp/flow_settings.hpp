#pragma once
// A FlowTable's limits: one table per tunnel on each side (edge: per public
// UDP port; connector: per udp backend), so max_flows is per tunnel.

#include <warren/sdk/time.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace warren::core::udp {

struct FlowSettings {
  /// A flow with no datagram either way for this long ends (`idle`). > 0,
  /// at most 7 days.
  sdk::Duration idle_timeout = std::chrono::seconds(30);
  /// A flow ends this long after its first datagram, busy or not
  /// (`lifetime`); 0: no limit; at most 7 days.
  sdk::Duration max_lifetime{0};
  /// Requests (client -> service) a flow carries; 0: no limit. The flow then
  /// forwards no more requests but still carries responses; it ends
  /// (`requests`) when quiet for idle_timeout, or when the client sends
  /// again, which begins a new flow for that datagram.
  std::uint64_t max_requests = 0;
  /// Responses (service -> client) a flow carries; 0: no limit. The flow ends
  /// (`responses`) right after forwarding the last one: a DNS flow is 1 / 1.
  std::uint64_t max_responses = 0;
  /// Flows at once in this table (one tunnel). >= 1.
  std::size_t max_flows = 1024;
  /// Flows at once per source (an IPv4 address, an IPv6 /64); 0: no cap.
  std::size_t max_flows_per_source = 256;
  /// The backend needs opening before it takes datagrams (connector: the udp
  /// backend's socket, opened asynchronously): a new flow emits OpenFlow and
  /// holds ONE datagram until handle_opened. false (edge: the tunnel is the
  /// backend, ready at once): a flow is open from its first datagram.
  bool open_step = false;
};

/// The first problem with `settings` ("idle_timeout must be > 0", ...), or
/// nullopt when they are usable.
std::optional<std::string> find_problem(const FlowSettings& settings);

}  // namespace warren::core::udp

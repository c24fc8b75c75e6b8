#pragma once
// What the connector's /metrics and /status say of a udp tunnel's flows
// (issue 13): flows live, opened, closed by reason (name(CloseReason)), and
// datagrams dropped by reason (name(DropReason), plus the shell's own:
// malformed, no_leg, send_failed, and receive_queue_full, transport,
// socket_buffer from the legs' channels and the flows' sockets). Pure rendering, as connector_admin's.

#include "core/connector/udp_flows.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace warren::core {

/// Appends the warren_connector_udp_* families to Prometheus text `out`.
void append_udp_metrics(std::string& out, const UdpFlows& flows);

/// {"flows_active", "flows_total", "flows_closed": {reason: n},
///  "datagrams_dropped": {reason: n}} for /status.
boost::json::object udp_status_json(const UdpFlows& flows);

/// Live flows of the leg connections under `origins` (a leg's flows_open).
std::uint64_t udp_flows_of(const UdpFlows& flows, const std::vector<std::uint32_t>& origins);

}  // namespace warren::core

#pragma once
// What the connector says in its log about a udp tunnel's dropped datagrams
// (DropWarnings, core/log): each reason of
// warren_connector_udp_datagrams_dropped_total with what the operator can
// do about it. Pure, so tests check the exact words.

#include "core/connector/udp_flows.hpp"
#include "core/log/drop_warnings.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace warren::core {

/// Every drop count by its metrics reason: the table's, then the shell's.
std::vector<DropTotal> udp_flows_drop_totals(const udp::FlowCounters& table, const UdpShellDrops& shell);

/// What to do about the connector's drops of `reason`.
std::string udp_flows_drop_advice(std::string_view reason);

/// "3 flows refused by the backend in the last 5 s (backend_refused): …",
/// for the flows the backend refused (`news.dropped` counts flows).
std::string refused_flows_line(const DropNews& news);

}  // namespace warren::core

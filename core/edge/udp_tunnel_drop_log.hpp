#pragma once
// What an edge's udp tunnel says in its log about the datagrams it drops
// (DropWarnings, core/log): each reason of /metrics with what the operator
// can do about it. Pure, so tests check the exact words.

#include "core/edge/udp_tunnel_stats.hpp"
#include "core/log/drop_warnings.hpp"
#include "core/udp/flow_settings.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace warren::core {

/// Every drop count of `stats` by its warren_udp_datagrams_dropped_total reason.
std::vector<DropTotal> udp_tunnel_drop_totals(const UdpTunnelStats& stats);

/// What to do about drops of `reason` on an edge tunnel running `settings`
/// (the limit to raise and its key, or where the datagrams are lost).
std::string udp_tunnel_drop_advice(std::string_view reason, const udp::FlowSettings& settings);

}  // namespace warren::core

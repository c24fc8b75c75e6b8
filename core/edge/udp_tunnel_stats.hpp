#pragma once
// What a udp tunnel did, for /metrics and /status: its flow table's counts,
// its public port's, and the drops only the edge's shell sees. Rendering is
// pure, so tests check exact text.

#include "core/datagram/datagram_channel.hpp"
#include "core/udp/flow_reasons.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <string>

namespace warren::core {

struct UdpTunnelStats {
  std::uint64_t flows_active = 0;  ///< gauge: flows live now
  std::uint64_t flows_opened = 0;
  std::array<std::uint64_t, udp::close_reason_count> flows_closed{};  ///< by CloseReason
  std::array<std::uint64_t, udp::drop_reason_count> dropped{};        ///< by DropReason, as the table counts them
  std::uint64_t dropped_no_leg = 0;       ///< a new flow's datagram with no leg to carry it
  std::uint64_t dropped_send_failed = 0;  ///< a leg channel or the public socket refused it
  std::uint64_t dropped_malformed = 0;    ///< a frame from the connector that did not decode, or not for this edge
  /// Flow frames from the connector that arrived on a leg's channel while
  /// its receive queue was full (ChannelCounters::dropped_on_receive).
  std::uint64_t dropped_receive_queue = 0;
  /// Lost inside a leg's transport (ChannelCounters::dropped_in_transport:
  /// QUIC's datagram queues, a failed udp stream's queued frames).
  std::uint64_t dropped_transport = 0;
  /// From public clients, dropped by the kernel at the public socket: its
  /// receive buffer was full (UdpPublicPort::socket_drops).
  std::uint64_t dropped_socket_buffer = 0;
  std::uint64_t datagrams_in = 0;  ///< from public clients
  std::uint64_t datagrams_out = 0;  ///< to public clients
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  /// From public clients, taken by a leg's channel toward the connector:
  /// datagrams_in less those dropped before (the table's limits, no_leg,
  /// send_failed), so the status's TO CONNECTOR never counts a datagram the
  /// edge dropped. One the transport loses later is in dropped_transport.
  std::uint64_t datagrams_to_connector = 0;
  std::uint64_t bytes_to_connector = 0;

  /// Adds `other`'s counters (not its gauge): a tunnel that went, kept so
  /// counters never go back.
  UdpTunnelStats& operator+=(const UdpTunnelStats& other);
};

/// Adds a leg channel's drops (receive queue, transport) to `stats`. Its
/// send refusals are counted where send() was called (send_failed).
void add_channel_drops(UdpTunnelStats& stats, const datagram::ChannelCounters& channel);

/// The warren_udp_* families, one series per tunnel (and reason or direction).
std::string render_udp_tunnel_metrics(const std::map<std::string, UdpTunnelStats>& tunnels);

}  // namespace warren::core

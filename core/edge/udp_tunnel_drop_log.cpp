#include "core/edge/udp_tunnel_drop_log.hpp"

namespace warren::core {

std::vector<DropTotal> udp_tunnel_drop_totals(const UdpTunnelStats& s) {
  std::vector<DropTotal> totals;
  for (auto reason : udp::all_drop_reasons)
    totals.push_back({udp::name(reason), s.dropped[static_cast<std::size_t>(reason)]});
  totals.push_back({"no_leg", s.dropped_no_leg});
  totals.push_back({"send_failed", s.dropped_send_failed});
  totals.push_back({"malformed", s.dropped_malformed});
  totals.push_back({"receive_queue_full", s.dropped_receive_queue});
  totals.push_back({"transport", s.dropped_transport});
  totals.push_back({"socket_buffer", s.dropped_socket_buffer});
  return totals;
}

std::string udp_tunnel_drop_advice(std::string_view reason, const udp::FlowSettings& settings) {
  if (reason == "table_full")
    return "the tunnel holds max_flows = " + std::to_string(settings.max_flows) +
           " flows, so new clients' datagrams are dropped; raise max_flows in its [[tunnels]] table";
  if (reason == "source_cap")
    return "one source (IPv4 address, IPv6 /64) holds max_flows_per_source = " +
           std::to_string(settings.max_flows_per_source) +
           " flows; raise max_flows_per_source in its [[tunnels]] table if many clients share an address (NAT)";
  if (reason == "unknown_flow")
    return "answers from the connector for flows that had ended; if the service answers later than "
           "flow_idle_timeout = " +
           sdk::human_duration(settings.idle_timeout) + ", raise it";
  if (reason == "flow_closed") return "datagrams held while their flow opened, which ended first";
  if (reason == "opening") return "a flow's one-datagram buffer was taken while it opened";
  if (reason == "no_leg") return "no connector leg is registered to carry a new client's flow: is the connector up?";
  if (reason == "send_failed")
    return "a leg refused the frame: its send queue was full (over HTTP/2 the stream's window), or the datagram is "
           "larger than the path; the clients send faster than the leg to the connector carries";
  if (reason == "malformed")
    return "frames from the connector that did not decode: are the edge and the connector the same version?";
  if (reason == "receive_queue_full")
    return "frames from the connector arrived faster than the edge forwarded them (a leg's receive queue was full): "
           "the edge is short of CPU";
  if (reason == "transport")
    return "lost inside a leg's transport (QUIC's datagram queues, or a udp stream that failed): the path between "
           "edge and connector carries less than the tunnel's traffic";
  if (reason == "socket_buffer")
    return "the kernel dropped clients' datagrams at the public socket, its receive buffer full: the edge is not "
           "reading fast enough; raise net.core.rmem_max (sysctl -w net.core.rmem_max=8388608)";
  return {};
}

}  // namespace warren::core

#include "core/connector/udp_flows_drop_log.hpp"

namespace warren::core {

std::vector<DropTotal> udp_flows_drop_totals(const udp::FlowCounters& table, const UdpShellDrops& shell) {
  std::vector<DropTotal> totals;
  for (auto reason : udp::all_drop_reasons) totals.push_back({udp::name(reason), table.drops(reason)});
  totals.push_back({"malformed", shell.malformed});
  totals.push_back({"no_leg", shell.no_leg});
  totals.push_back({"send_failed", shell.send_failed});
  totals.push_back({"receive_queue_full", shell.receive_queue_full});
  totals.push_back({"transport", shell.transport});
  totals.push_back({"socket_buffer", shell.socket_buffer});
  return totals;
}

std::string udp_flows_drop_advice(std::string_view reason) {
  if (reason == "table_full")
    return "the connector holds its most flows at once (65536); lower max_flows of the tunnel at the edge";
  if (reason == "source_cap") return "a source holds its most flows at once";
  if (reason == "opening")
    return "the backend was still opening a new flow and its one-datagram buffer was taken: the service's address "
           "resolves or its socket opens slowly";
  if (reason == "unknown_flow")
    return "answers from the service or results of opens for flows that had ended (the edge ends a flow after its "
           "flow_idle_timeout)";
  if (reason == "flow_closed") return "datagrams held while their flow opened, which ended first";
  if (reason == "malformed")
    return "frames from the edge that did not decode: are the edge and the connector the same version?";
  if (reason == "no_leg") return "for a leg that had ended; its flows come back on a leg that lives";
  if (reason == "send_failed")
    return "the backend's flow socket or a leg refused it (full, or larger than the path): the backend is not "
           "reading fast enough, or the service answers faster than the leg to the edge carries";
  if (reason == "receive_queue_full")
    return "frames from the edge arrived faster than the connector forwarded them (a leg's receive queue was full): "
           "the connector is short of CPU";
  if (reason == "transport")
    return "lost inside a leg's transport (QUIC's datagram queues, or a udp stream that failed): the path between "
           "connector and edge carries less than the tunnel's traffic";
  if (reason == "socket_buffer")
    return "the kernel dropped the service's answers at a flow's socket, its receive buffer full: the connector is "
           "not reading fast enough; raise net.core.rmem_max (sysctl -w net.core.rmem_max=8388608)";
  return {};
}

std::string refused_flows_line(const DropNews& news) {
  return std::to_string(news.dropped) + (news.dropped == 1 ? " flow" : " flows") +
         " refused by the backend in the last " + sdk::human_duration(news.over) +
         " (backend_refused), each with the datagram that opened it: nothing answers at the backend's address "
         "(ICMP port unreachable) or no socket could be opened; is the service running?";
}

}  // namespace warren::core

#include "core/edge/udp_tunnel_stats.hpp"

#include "core/admin/prometheus_text.hpp"

namespace warren::core {

UdpTunnelStats& UdpTunnelStats::operator+=(const UdpTunnelStats& other) {
  flows_opened += other.flows_opened;
  for (std::size_t i = 0; i < flows_closed.size(); ++i) flows_closed[i] += other.flows_closed[i];
  for (std::size_t i = 0; i < dropped.size(); ++i) dropped[i] += other.dropped[i];
  dropped_no_leg += other.dropped_no_leg;
  dropped_send_failed += other.dropped_send_failed;
  dropped_malformed += other.dropped_malformed;
  dropped_receive_queue += other.dropped_receive_queue;
  dropped_transport += other.dropped_transport;
  dropped_socket_buffer += other.dropped_socket_buffer;
  datagrams_in += other.datagrams_in;
  datagrams_out += other.datagrams_out;
  bytes_in += other.bytes_in;
  bytes_out += other.bytes_out;
  datagrams_to_connector += other.datagrams_to_connector;
  bytes_to_connector += other.bytes_to_connector;
  return *this;
}

void add_channel_drops(UdpTunnelStats& stats, const datagram::ChannelCounters& channel) {
  stats.dropped_receive_queue += channel.dropped_on_receive;
  stats.dropped_transport += channel.dropped_in_transport;
}

std::string render_udp_tunnel_metrics(const std::map<std::string, UdpTunnelStats>& tunnels) {
  using prometheus::family;
  using prometheus::label;
  std::string out;
  auto line = [&out](const char* name, const std::string& labels, std::uint64_t value) {
    out += std::string(name) + "{" + labels + "} " + std::to_string(value) + "\n";
  };
  auto tunnel = [](const std::string& id) { return "tunnel=\"" + label(id) + "\""; };
  family(out, "warren_udp_flows_active", "gauge", "UDP flows (one per public client address and port) live now.");
  for (const auto& [id, s] : tunnels) line("warren_udp_flows_active", tunnel(id), s.flows_active);
  family(out, "warren_udp_flows_total", "counter", "UDP flows opened.");
  for (const auto& [id, s] : tunnels) line("warren_udp_flows_total", tunnel(id), s.flows_opened);
  family(out, "warren_udp_flows_closed_total", "counter", "UDP flows ended, by reason.");
  for (const auto& [id, s] : tunnels)
    for (auto reason : udp::all_close_reasons)
      line("warren_udp_flows_closed_total", tunnel(id) + ",reason=\"" + std::string(udp::name(reason)) + "\"",
           s.flows_closed[static_cast<std::size_t>(reason)]);
  family(out, "warren_udp_datagrams_total", "counter",
         "UDP datagrams from public clients (in) and to them (out).");
  for (const auto& [id, s] : tunnels) {
    line("warren_udp_datagrams_total", tunnel(id) + ",direction=\"in\"", s.datagrams_in);
    line("warren_udp_datagrams_total", tunnel(id) + ",direction=\"out\"", s.datagrams_out);
  }
  family(out, "warren_udp_bytes_total", "counter", "UDP payload bytes from public clients (in) and to them (out).");
  for (const auto& [id, s] : tunnels) {
    line("warren_udp_bytes_total", tunnel(id) + ",direction=\"in\"", s.bytes_in);
    line("warren_udp_bytes_total", tunnel(id) + ",direction=\"out\"", s.bytes_out);
  }
  family(out, "warren_udp_to_connector_datagrams_total", "counter",
         "UDP datagrams from public clients that a leg took toward the connector (the dropped ones not counted).");
  for (const auto& [id, s] : tunnels)
    line("warren_udp_to_connector_datagrams_total", tunnel(id), s.datagrams_to_connector);
  family(out, "warren_udp_to_connector_bytes_total", "counter",
         "Payload bytes of the datagrams in warren_udp_to_connector_datagrams_total.");
  for (const auto& [id, s] : tunnels) line("warren_udp_to_connector_bytes_total", tunnel(id), s.bytes_to_connector);
  family(out, "warren_udp_datagrams_dropped_total", "counter", "UDP datagrams not forwarded, by reason.");
  for (const auto& [id, s] : tunnels) {
    for (auto reason : udp::all_drop_reasons)
      line("warren_udp_datagrams_dropped_total", tunnel(id) + ",reason=\"" + std::string(udp::name(reason)) + "\"",
           s.dropped[static_cast<std::size_t>(reason)]);
    line("warren_udp_datagrams_dropped_total", tunnel(id) + ",reason=\"no_leg\"", s.dropped_no_leg);
    line("warren_udp_datagrams_dropped_total", tunnel(id) + ",reason=\"send_failed\"", s.dropped_send_failed);
    line("warren_udp_datagrams_dropped_total", tunnel(id) + ",reason=\"malformed\"", s.dropped_malformed);
    line("warren_udp_datagrams_dropped_total", tunnel(id) + ",reason=\"receive_queue_full\"",
         s.dropped_receive_queue);
    line("warren_udp_datagrams_dropped_total", tunnel(id) + ",reason=\"transport\"", s.dropped_transport);
    line("warren_udp_datagrams_dropped_total", tunnel(id) + ",reason=\"socket_buffer\"", s.dropped_socket_buffer);
  }
  return out;
}

}  // namespace warren::core

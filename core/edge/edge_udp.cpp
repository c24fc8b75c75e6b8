// udp tunnels at the edge: a tunnel's public UDP port and flow table
// (UdpTunnel) in place of a PublicListener, and each leg's udp data stream
// and datagram channel (the contract in core/protocol/control.capnp,
// StreamHeader).
#include "core/datagram/leg_channel.hpp"
#include "core/edge/edge_leg.hpp"
#include "core/edge/edge_server.hpp"
#include "core/log/logging.hpp"
#include "core/protocol/frame_encoder.hpp"

#include <warren/sdk/endpoint.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace warren::core {

void EdgeLeg::open_udp_stream(const std::string& listener) {
  std::string problem;
  auto encoded = protocol::encode(protocol::StreamHeader{"", listener, protocol::StreamKind::udp}, &problem);
  if (!encoded) {
    // A listener address always fits a header; this guards against the encoder's rules changing.
    tunnel_log(tunnel_id_, conn_index_).error("cannot encode the udp stream's header: {}", problem);
    return end(sdk::errc::protocol_error);
  }
  auto header = std::make_shared<const protocol::FrameBytes>(std::move(*encoded));
  // QUIC carries datagrams natively; checked once, at registration, as the connector does.
  bool native = connection_->max_datagram_size() > 0;
  open_data_stream([self = shared_from_this(), header, native](sdk::error_code ec, sdk::ByteStreamPtr stream) {
    if (self->ended_) return;
    if (ec) {
      // Draining already, or the connection died: no flow goes on this leg.
      tunnel_log(self->tunnel_id_, self->conn_index_).info("cannot open its udp stream: {}", ec.message());
      return;
    }
    auto& raw = *stream;
    boost::asio::async_write(
        raw, boost::asio::buffer(*header),
        [self, header, native, stream = std::move(stream)](sdk::error_code e, std::size_t) mutable {
          // On an error or a drain meanwhile the stream goes here, and the drain counts it closed.
          if (e || self->ended_ || !self->engine_.accepts_streams()) return;
          auto native_part = native ? datagram::make_native_channel(*self->connection_) : nullptr;
          auto channel = std::make_unique<datagram::LegChannel>(
              self->connection_->get_executor(), std::move(native_part), datagram::make_stream_channel(std::move(stream)));
          if (!self->server_.udp_leg_ready(self->tunnel_id_, self->id_, std::move(channel))) return;
          // Tests and scripts wait for this line (or /status flows.legs): keep its shape.
          tunnel_log(self->tunnel_id_, self->conn_index_)
              .info("carries udp flows ({})", native ? "QUIC datagrams, its udp stream for larger ones"
                                                     : "on its udp stream");
        });
  });
}

const TunnelEntry* EdgeServer::udp_entry(const std::string& tunnel_id) const {
  for (const auto& t : config_.tunnels)
    if (t.id == tunnel_id) return t.kind == TunnelKind::udp ? &t : nullptr;
  return nullptr;
}

void EdgeServer::open_udp_port(const TunnelEntry& entry, std::uint16_t port) {
  boost::asio::ip::udp::endpoint at(resolve_public_host(), port);
  auto tunnel = UdpTunnel::open(io_.get_executor(), entry.id, entry.flows, at);
  // A leg whose udp stream ended while it lives (HTTP/2: its one stream was
  // reset) gets a new one, opened as at registration. Posted: the tunnel
  // asks from inside its own calls.
  tunnel->set_stream_opener([this, id = entry.id](LegId leg) {
    boost::asio::post(io_, [this, id, leg] {
      auto on = legs_.find(leg);
      auto held = udp_tunnels_.find(id);
      if (stopped_ || on == legs_.end() || on->second->tunnel_id() != id || held == udp_tunnels_.end()) return;
      on->second->open_udp_stream(
          sdk::format_host_port(config_.edge.public_host, held->second->local_endpoint().port()));
    });
  });
  if (auto old = udp_tunnels_.find(entry.id); old != udp_tunnels_.end()) {
    old->second->close();
    udp_gone_[entry.id] += old->second->stats();
  }
  udp_tunnels_[entry.id] = tunnel;
  auto bound = tunnel->local_endpoint();
  // Tests and scripts read this line: keep its shape.
  log().info("tunnel '{}' (udp) public at {}", entry.id,
             sdk::format_host_port(bound.address().to_string(), bound.port()));
}

std::optional<std::uint16_t> EdgeServer::public_port_of(const std::string& tunnel_id) const {
  if (auto tcp = public_listeners_.find(tunnel_id); tcp != public_listeners_.end())
    return tcp->second->local_endpoint().port();
  if (auto udp = udp_tunnels_.find(tunnel_id); udp != udp_tunnels_.end()) return udp->second->local_endpoint().port();
  return std::nullopt;
}

bool EdgeServer::close_public_port(const std::string& tunnel_id) {
  if (auto it = public_listeners_.find(tunnel_id); it != public_listeners_.end()) {
    // Stops accepting; public connections it accepted keep flowing.
    it->second->close();
    public_listeners_.erase(it);
    return true;
  }
  if (auto it = udp_tunnels_.find(tunnel_id); it != udp_tunnels_.end()) {
    // Its flows end (shutdown, a close frame each) and its legs' channels close.
    it->second->close();
    udp_gone_[tunnel_id] += it->second->stats();
    udp_tunnels_.erase(it);
    return true;
  }
  return false;
}

bool EdgeServer::udp_leg_ready(const std::string& tunnel_id, LegId leg, datagram::DatagramChannelPtr channel) {
  auto it = udp_tunnels_.find(tunnel_id);
  // A reload removed the tunnel meanwhile: the channel (and the stream) goes.
  if (it == udp_tunnels_.end() || stopped_ || !legs_.count(leg)) return false;
  it->second->add_leg(leg, std::move(channel));
  return true;
}

void EdgeServer::udp_leg_draining(LegId leg) {
  for (auto& [id, tunnel] : udp_tunnels_) tunnel->drain_leg(leg);
}

std::map<std::string, UdpTunnelStats> EdgeServer::udp_stats() const {
  auto out = udp_gone_;
  for (const auto& [id, tunnel] : udp_tunnels_) {
    auto live = tunnel->stats();
    auto& total = out[id];
    live += total;  // the gauge is the live one's
    total = live;
  }
  return out;
}

std::string EdgeServer::render_udp_metrics() const {
  auto stats = udp_stats();
  return stats.empty() ? std::string() : render_udp_tunnel_metrics(stats);
}

}  // namespace warren::core

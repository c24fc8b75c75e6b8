#include "core/edge/udp_tunnel.hpp"

#include "core/edge/udp_tunnel_drop_log.hpp"
#include "core/log/logging.hpp"
#include "core/udp/flow_frame.hpp"

#include <warren/sdk/endpoint.hpp>

#include <boost/asio/error.hpp>

namespace warren::core {

namespace asio = boost::asio;
using UdpEndpoint = asio::ip::udp::endpoint;

namespace {

std::string client_text(const UdpEndpoint& client) {
  return sdk::format_host_port(client.address().to_string(), client.port());
}

}  // namespace

std::shared_ptr<UdpTunnel> UdpTunnel::open(asio::any_io_executor executor, std::string tunnel_id,
                                           const udp::FlowSettings& settings, const UdpEndpoint& at) {
  std::shared_ptr<UdpTunnel> tunnel(new UdpTunnel(executor, std::move(tunnel_id), settings));
  tunnel->port_ = std::make_shared<UdpPublicPort>(
      executor, at, [weak = std::weak_ptr(tunnel)](const UdpEndpoint& client, sdk::Datagram payload) {
        if (auto self = weak.lock()) self->on_public_datagram(client, std::move(payload));
      });
  tunnel->local_ = tunnel->port_->local_endpoint();
  tunnel->port_->start();
  tunnel->check_drops_later();
  return tunnel;
}

UdpTunnel::UdpTunnel(asio::any_io_executor executor, std::string tunnel_id, const udp::FlowSettings& settings)
    : id_(std::move(tunnel_id)),
      table_(settings),
      timer_(executor),
      drop_timer_(std::move(executor)),
      drop_warnings_(sdk::Clock::now()) {}

UdpTunnel::~UdpTunnel() {
  // The port keeps itself alive while it receives: stop it with the tunnel.
  if (port_) port_->close();
}

void UdpTunnel::add_leg(LegId leg, datagram::DatagramChannelPtr channel) {
  if (closed_ || !channel) return;
  legs_[leg] = std::move(channel);
  choice_.add_leg(leg);
  receive_from(leg);
}

void UdpTunnel::drain_leg(LegId leg) {
  if (choice_.waits_for_stream(leg)) choice_.remove_leg(leg);  // a draining leg gets no new stream
  if (!legs_.contains(leg)) return;
  choice_.drain_leg(leg);
  release_if_drained(leg);
}

void UdpTunnel::remove_leg(LegId leg) {
  choice_.remove_leg(leg);  // one waiting for a stream has no channel to end
  if (!legs_.contains(leg)) return;
  drop_leg(leg);
  pump(sdk::Clock::now());
}

void UdpTunnel::drop_leg(LegId leg) {
  auto now = sdk::Clock::now();
  // Forgotten first: the flows' CloseFlow finds no channel, and sends nothing on a leg that is gone.
  if (auto it = legs_.find(leg); it != legs_.end()) {
    it->second->close();
    add_channel_drops(own_, it->second->counters());  // kept: counters never go back
    legs_.erase(it);
  }
  choice_.remove_leg(leg);
  std::vector<udp::FlowId> carried;
  for (const auto& [flow, on] : flow_leg_)
    if (on == leg) carried.push_back(flow);
  for (auto flow : carried) table_.close_flow(now, flow, udp::CloseReason::leg_lost);
}

void UdpTunnel::close() {
  if (closed_) return;
  auto now = sdk::Clock::now();
  table_.close_all(now, udp::CloseReason::shutdown);
  pump(now);  // close frames go out on the legs still here
  closed_ = true;
  timer_.cancel();
  for (auto& [leg, channel] : legs_) {
    channel->close();
    add_channel_drops(own_, channel->counters());
  }
  legs_.clear();
  if (port_) port_->close();
  drop_timer_.cancel();
  log_drops(sdk::Clock::now());
}

void UdpTunnel::check_drops_later() {
  drop_timer_.expires_after(drop_check_interval);
  drop_timer_.async_wait([weak = weak_from_this()](sdk::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->closed_) return;
    self->log_drops(sdk::Clock::now());
    self->check_drops_later();
  });
}

void UdpTunnel::log_drops(sdk::TimePoint now) {
  auto totals = udp_tunnel_drop_totals(stats());
  for (const auto& news : drop_warnings_.update(now, totals))
    tunnel_log(id_).warn("{}", drop_line(news, udp_tunnel_drop_advice(news.reason, table_.settings())));
}

void UdpTunnel::update_settings(const udp::FlowSettings& settings) {
  if (closed_) return;
  auto now = sdk::Clock::now();
  table_.update_settings(now, settings);
  pump(now);  // flows past their new deadline end now, telling the connector
}

void UdpTunnel::on_public_datagram(const UdpEndpoint& client, sdk::Datagram payload) {
  if (closed_) return;
  auto now = sdk::Clock::now();
  udp::FlowKey key{0, client};
  bool new_client = !table_.find(key);
  // A new client wants every leg back that lost its stream (this datagram goes to one that has a channel).
  if (new_client) open_streams(now, true);
  // A client with no flow needs a leg for its new one; with none, the table is not bothered.
  if (new_client && !choice_.can_take()) {
    ++own_.dropped_no_leg;
    return;
  }
  table_.handle_request(now, key, std::move(payload));
  pump(now);
}

void UdpTunnel::receive_from(LegId leg) {
  auto it = legs_.find(leg);
  if (it == legs_.end()) return;
  auto* channel = it->second.get();
  channel->async_receive([weak = weak_from_this(), leg, channel](sdk::error_code ec, sdk::Datagram frame) {
    auto self = weak.lock();
    if (!self || self->closed_) return;
    // A leg removed, or released after its drain (another channel would be another object).
    auto now_held = self->legs_.find(leg);
    if (now_held == self->legs_.end() || now_held->second.get() != channel) return;
    if (ec) return self->channel_ended(leg, ec);
    self->on_frame(leg, frame);
    self->receive_from(leg);
  });
}

void UdpTunnel::channel_ended(LegId leg, sdk::error_code why) {
  bool draining = choice_.draining(leg);
  if (!draining || choice_.flows_on(leg) > 0)
    tunnel_log(id_).debug("leg {}: its udp channel ended ({}); its {} flow(s) end", leg, why.message(),
                          choice_.flows_on(leg));
  auto now = sdk::Clock::now();
  drop_leg(leg);
  pump(now);
  // The connector ends its udp stream cleanly (eof) only when its leg drains; its Unregister follows.
  if (draining || !open_stream_ || why == asio::error::eof) return;
  // The leg lives (remove_leg comes when it ends): a new stream brings it back.
  choice_.stream_lost(leg);
  open_streams(now, table_.size() > 0);
}

void UdpTunnel::open_streams(sdk::TimePoint now, bool wanted) {
  if (!open_stream_) return;
  for (auto leg : choice_.streams_to_open(now, wanted)) {
    tunnel_log(id_).debug("leg {}: opening a new udp stream (its last one ended while the leg lives)", leg);
    open_stream_(leg);
  }
}

void UdpTunnel::on_frame(LegId leg, std::span<const std::byte> bytes) {
  auto now = sdk::Clock::now();
  auto decoded = udp::decode_flow_frame(bytes);
  if (!decoded.frame) {
    // One bad frame is dropped; the leg and its other flows go on.
    ++own_.dropped_malformed;
    tunnel_log(id_).debug("leg {}: dropped a malformed flow frame ({})", leg, udp::name(decoded.error));
    return;
  }
  auto on_this_leg = [&](udp::FlowId flow) {
    auto it = flow_leg_.find(flow);
    return it != flow_leg_.end() && it->second == leg;
  };
  if (auto* response = std::get_if<udp::ResponseFrame>(&*decoded.frame)) {
    if (!on_this_leg(response->flow)) {
      // A flow that ended (its close frame crossed this answer), or another leg's.
      ++own_.dropped[static_cast<std::size_t>(udp::DropReason::unknown_flow)];
      return;
    }
    table_.handle_response(now, response->flow, sdk::Datagram(response->payload.begin(), response->payload.end()));
  } else if (auto* close = std::get_if<udp::CloseFrame>(&*decoded.frame)) {
    // The connector's reason is counted when this edge knows it (a newer peer's code: peer_closed).
    if (on_this_leg(close->flow))
      table_.handle_peer_closed(now, close->flow,
                                udp::close_reason_from_wire(close->reason).value_or(udp::CloseReason::peer_closed));
  } else {
    // Requests go edge -> connector only.
    ++own_.dropped_malformed;
    tunnel_log(id_).debug("leg {}: dropped a request frame from the connector", leg);
    return;
  }
  pump(now);
}

void UdpTunnel::pump(sdk::TimePoint now) {
  while (auto action = table_.poll_action()) {
    if (auto* request = std::get_if<udp::ForwardRequest>(&*action)) {
      forward_request(now, *request);
    } else if (auto* response = std::get_if<udp::ForwardResponse>(&*action)) {
      if (port_) port_->send_to(response->key.client, response->payload);
    } else if (auto* close = std::get_if<udp::CloseFlow>(&*action)) {
      flow_closed(*close);
    }
    // DropDatagram: counted by the table. OpenFlow: never (the edge's table has no open step).
  }
  if (closed_) return;
  auto next = table_.next_timeout();
  if (!next) return void(timer_.cancel());
  timer_.expires_at(*next);
  timer_.async_wait([weak = weak_from_this()](sdk::error_code ec) {
    auto self = weak.lock();
    if (ec || !self || self->closed_) return;
    auto at = sdk::Clock::now();
    self->table_.handle_timeout(at);
    self->pump(at);
  });
}

void UdpTunnel::forward_request(sdk::TimePoint now, udp::ForwardRequest& request) {
  auto placed = flow_leg_.find(request.flow);
  if (placed == flow_leg_.end()) {
    // A new flow: the leg chosen now carries it to its end.
    auto leg = choice_.choose();
    if (!leg) {
      // Only when the table began a flow the check before it did not foresee (a flow past its deadline renewed).
      ++own_.dropped_no_leg;
      table_.close_flow(now, request.flow, udp::CloseReason::leg_lost);
      return;
    }
    placed = flow_leg_.emplace(request.flow, *leg).first;
    choice_.flow_placed(*leg);
  }
  frame_.clear();
  if (!udp::encode_request(request.flow, request.key.client, request.payload, frame_)) {
    ++own_.dropped_send_failed;  // larger than a frame carries (the port reads at most that much)
    return;
  }
  // Counted toward the connector only once a leg took it: TO CONNECTOR + drops = what arrived.
  if (!send_frame(placed->second, frame_, /*count_failure=*/true)) return;
  ++own_.datagrams_to_connector;
  own_.bytes_to_connector += request.payload.size();
}

void UdpTunnel::flow_closed(const udp::CloseFlow& close) {
  const auto& s = close.summary;
  tunnel_log(id_).debug("flow {} of {} ended ({}{}): {} request(s) ({} B), {} response(s) ({} B) in {}", close.flow,
                        client_text(close.key.client), udp::name(close.reason),
                        close.by_peer ? ", said by the connector" : "", s.requests, s.request_bytes, s.responses,
                        s.response_bytes, sdk::human_duration(sdk::Clock::now() - s.began));
  auto placed = flow_leg_.find(close.flow);
  if (placed == flow_leg_.end()) return;
  auto leg = placed->second;
  flow_leg_.erase(placed);
  choice_.flow_ended(leg);
  if (!close.by_peer) {
    frame_.clear();
    if (udp::encode_close(close.flow, udp::to_wire(close.reason), frame_))
      send_frame(leg, frame_, /*count_failure=*/false);
  }
  release_if_drained(leg);
}

bool UdpTunnel::send_frame(LegId leg, const std::vector<std::byte>& frame, bool count_failure) {
  auto it = legs_.find(leg);
  bool sent = it != legs_.end() && it->second->send(frame);
  if (!sent && count_failure) ++own_.dropped_send_failed;
  return sent;
}

void UdpTunnel::release_if_drained(LegId leg) {
  if (!choice_.draining(leg) || choice_.flows_on(leg) > 0) return;
  if (auto it = legs_.find(leg); it != legs_.end()) {
    it->second->close();
    add_channel_drops(own_, it->second->counters());
    legs_.erase(it);
  }
  choice_.remove_leg(leg);
}

UdpTunnelStats UdpTunnel::stats() const {
  UdpTunnelStats s = own_;
  const auto& c = table_.counters();
  s.flows_active = table_.size();
  s.flows_opened = c.flows_opened;
  s.flows_closed = c.flows_closed;
  for (std::size_t i = 0; i < s.dropped.size(); ++i) s.dropped[i] += c.dropped[i];
  for (const auto& [leg, channel] : legs_) add_channel_drops(s, channel->counters());
  if (port_) {
    const auto& p = port_->counters();
    s.datagrams_in = p.received;
    s.bytes_in = p.received_bytes;
    s.datagrams_out = p.sent;
    s.bytes_out = p.sent_bytes;
    s.dropped_send_failed += p.send_dropped;
    s.dropped_socket_buffer += port_->socket_drops();
  }
  return s;
}

}  // namespace warren::core

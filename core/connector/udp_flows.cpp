#include "core/connector/udp_flows.hpp"

#include "core/connector/udp_flows_drop_log.hpp"
#include "core/log/log_json.hpp"
#include "core/log/logging.hpp"
#include "core/udp/flow_frame.hpp"

#include <warren/sdk/endpoint.hpp>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <type_traits>

namespace warren::core {

namespace {

// Issue 13's contract: the connector's table is the whole process's, so its
// caps are wide; the edge enforces the tunnel's own (max_flows, per source,
// lifetime, request and response counts) and its close frames end ours.
constexpr std::size_t connector_max_flows = 65536;
// Past the edge's idle timeout, so the edge's close frame normally ends a
// flow here; this one ends it should that frame be lost.
constexpr auto idle_margin = std::chrono::seconds(5);
constexpr auto default_edge_idle = std::chrono::seconds(30);

std::string client_text(const udp::FlowKey& key) {
  return sdk::format_host_port(key.client.address().to_string(), key.client.port());
}

}  // namespace

UdpFlows::UdpFlows(boost::asio::io_context& io, BackendSource backend)
    : io_(io), backend_(std::move(backend)), timer_(io), drop_timer_(io) {}

UdpFlows::~UdpFlows() {
  // The backends' flows go before their leases' backends (Opened's order);
  // pending receives complete later and find this object gone.
  opened_.clear();
}

void UdpFlows::configure(std::chrono::milliseconds edge_idle_timeout) {
  auto idle = (edge_idle_timeout.count() > 0 ? sdk::Duration(edge_idle_timeout) : sdk::Duration(default_edge_idle)) +
              idle_margin;
  if (table_) {
    // A leg registered after the edge's idle timeout grew (a restart with a
    // longer one): ours follows, or it would end the edge's flows early.
    if (idle <= table_->settings().idle_timeout) return;
    auto longer = table_->settings();
    longer.idle_timeout = idle;
    table_->update_settings(sdk::Clock::now(), longer);
    return pump();
  }
  udp::FlowSettings settings;
  settings.idle_timeout = idle;
  settings.max_flows = connector_max_flows;
  settings.max_flows_per_source = 0;
  settings.open_step = true;
  table_.emplace(settings);
  drop_warnings_.emplace(sdk::Clock::now());
  refusal_warnings_.emplace(sdk::Clock::now());
  check_drops_later();
}

void UdpFlows::check_drops_later() {
  drop_timer_.expires_after(drop_check_interval);
  drop_timer_.async_wait([weak = weak_from_this()](sdk::error_code ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    self->log_drops(sdk::Clock::now());
    self->check_drops_later();
  });
}

void UdpFlows::log_drops(sdk::TimePoint now) {
  if (!drop_warnings_) return;
  // The connector carries one tunnel: its id, when the config names one (a quick tunnel's comes later).
  const auto& tunnel = process_log_context().tunnel;
  auto warn = [&](const std::string& line) {
    if (tunnel.empty())
      log().warn("udp tunnel: {}", line);
    else
      tunnel_log(tunnel).warn("{}", line);
  };
  for (const auto& news : drop_warnings_->update(now, udp_flows_drop_totals(counters(), drops())))
    warn(drop_line(news, udp_flows_drop_advice(news.reason)));
  // A service that is down refuses every flow (ICMP port unreachable), which
  // no drop reason shows (trial finding: 792 refused flows in 8 s, no line).
  DropTotal refused{"backend_refused", counters().closed(udp::CloseReason::backend_refused)};
  for (const auto& news : refusal_warnings_->update(now, std::span(&refused, 1))) warn(refused_flows_line(news));
}

const udp::FlowCounters& UdpFlows::counters() const {
  static const udp::FlowCounters none;
  return table_ ? table_->counters() : none;
}

void UdpFlows::attach(std::uint32_t origin, datagram::DatagramChannel& channel, std::string listener) {
  origins_[origin] = Origin{&channel, std::move(listener)};
}

void UdpFlows::detach(std::uint32_t origin, udp::CloseReason reason) {
  auto it = origins_.find(origin);
  if (it == origins_.end()) return;
  add_channel_drops(drops_, *it->second.channel);  // kept: counters never go back
  // A lost leg's channel is dead: its flows end without a word to the edge.
  if (reason != udp::CloseReason::shutdown) origins_.erase(it);
  if (table_ && table_->close_origin(sdk::Clock::now(), origin, reason) > 0) pump();
  origins_.erase(origin);
}

void UdpFlows::handle_frame(std::uint32_t origin, std::span<const std::byte> bytes) {
  auto decoded = udp::decode_flow_frame(bytes);
  if (!decoded.frame || !table_ || std::holds_alternative<udp::ResponseFrame>(*decoded.frame)) {
    ++drops_.malformed;
    log().debug("udp: dropped a frame from the edge ({})",
                decoded.frame ? "a response frame" : std::string(udp::name(decoded.error)));
    return;
  }
  auto now = sdk::Clock::now();
  if (auto* request = std::get_if<udp::RequestFrame>(&*decoded.frame)) {
    if (!origins_.contains(origin)) {
      ++drops_.no_leg;
      return;
    }
    table_->handle_request(now, udp::FlowKey{origin, request->client},
                           sdk::Datagram(request->payload.begin(), request->payload.end()), request->flow);
  } else if (auto* close = std::get_if<udp::CloseFrame>(&*decoded.frame)) {
    auto id = table_->find_peer(origin, close->flow);
    if (!id) return;  // ended here already: its close frame crossed the edge's
    table_->handle_peer_closed(now, *id);
  }
  pump();
}

void UdpFlows::pump() {
  if (!table_) return;
  while (auto action = table_->poll_action()) execute(*action);
  if (auto next = table_->next_timeout()) {
    timer_.expires_at(*next);
    timer_.async_wait([weak = weak_from_this()](sdk::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      self->table_->handle_timeout(sdk::Clock::now());
      self->pump();
    });
  } else {
    timer_.cancel();
  }
}

void UdpFlows::execute(udp::FlowAction& action) {
  std::visit(
      [this](auto& a) {
        using A = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<A, udp::OpenFlow>) {
          open(a);
        } else if constexpr (std::is_same_v<A, udp::ForwardRequest>) {
          auto it = opened_.find(a.flow);
          if (it == opened_.end() || !it->second.flow || !it->second.flow->send(a.payload)) ++drops_.send_failed;
        } else if constexpr (std::is_same_v<A, udp::ForwardResponse>) {
          std::vector<std::byte> frame;
          if (!origins_.contains(a.key.origin)) ++drops_.no_leg;
          else if (!udp::encode_response(a.peer_flow, a.payload, frame)) ++drops_.send_failed;  // above a frame's
          else send_frame(a.key.origin, frame);
        } else if constexpr (std::is_same_v<A, udp::CloseFlow>) {
          closed(a);
        }
        // DropDatagram: the table counted it; nothing to release.
      },
      action);
}

void UdpFlows::open(const udp::OpenFlow& open) {
  auto origin = origins_.find(open.key.origin);
  auto backend = backend_ ? backend_() : nullptr;
  if (origin == origins_.end() || !backend || backend->carries() != sdk::Backend::Carries::datagrams) {
    // Its leg went meanwhile, or a reload swapped in a backend of streams.
    table_->handle_open_failed(sdk::Clock::now(), open.flow);
    return;
  }
  opened_[open.flow] = Opened{backend, nullptr};
  auto* raw = backend.get();
  raw->async_open_flow(
      sdk::StreamInfo{client_text(open.key), origin->second.listener},
      [weak = weak_from_this(), id = open.flow, backend = std::move(backend)](
          sdk::error_code ec, sdk::DatagramFlowPtr flow) mutable {
        auto self = weak.lock();
        if (!self) {
          flow.reset();  // before its backend
          return;
        }
        self->opened(id, ec, std::move(flow), std::move(backend));
      });
}

void UdpFlows::opened(udp::FlowId id, sdk::error_code ec, sdk::DatagramFlowPtr flow,
                      std::shared_ptr<sdk::Backend> backend) {
  auto it = opened_.find(id);
  if (it == opened_.end() || !table_->is_live(id)) {
    // The flow ended while its backend opened: what was opened goes unused.
    release_later(Opened{std::move(backend), std::move(flow)});
    return;
  }
  auto now = sdk::Clock::now();
  if (ec || !flow) {
    log().debug("udp: the backend refused a flow: {}", ec ? ec.message() : "no flow");
    table_->handle_open_failed(now, id);
  } else {
    it->second.flow = std::move(flow);
    table_->handle_opened(now, id);
    if (opened_.contains(id)) receive(id);
  }
  pump();
}

void UdpFlows::receive(udp::FlowId id) {
  opened_.at(id).flow->async_receive([weak = weak_from_this(), id](sdk::error_code ec, sdk::Datagram datagram) {
    auto self = weak.lock();
    if (!self || !self->opened_.contains(id)) return;  // the flow ended: its flow object is gone
    auto now = sdk::Clock::now();
    if (ec) {
      // ICMP port unreachable, or the socket failed: either way nothing answers there.
      self->table_->handle_backend_refused(now, id);
    } else {
      self->table_->handle_response(now, id, std::move(datagram));
      if (self->opened_.contains(id)) self->receive(id);
    }
    self->pump();
  });
}

void UdpFlows::closed(const udp::CloseFlow& close) {
  if (auto it = opened_.find(close.flow); it != opened_.end()) {
    release_later(std::move(it->second));
    opened_.erase(it);
  }
  const auto& s = close.summary;
  log().debug("udp flow {} (leg origin {}, client {}, edge flow {}) closed: {}; {} request(s) {} B, {} response(s) "
              "{} B over {}",
              close.flow, close.key.origin, client_text(close.key), close.peer_flow, udp::name(close.reason),
              s.requests, s.request_bytes, s.responses, s.response_bytes,
              sdk::human_duration(sdk::Clock::now() - s.began));
  // The edge ended it itself, or its leg is gone (the edge ends its flows with the leg).
  if (close.reason == udp::CloseReason::peer_closed || !origins_.contains(close.key.origin)) return;
  std::vector<std::byte> frame;
  if (udp::encode_close(close.peer_flow, udp::to_wire(close.reason), frame)) send_frame(close.key.origin, frame);
}

void UdpFlows::send_frame(std::uint32_t origin, const std::vector<std::byte>& frame) {
  if (!origins_.at(origin).channel->send(frame)) ++drops_.send_failed;
}

UdpShellDrops UdpFlows::drops() const {
  UdpShellDrops now = drops_;
  for (const auto& [origin, attached] : origins_) add_channel_drops(now, *attached.channel);
  for (const auto& [id, opened] : opened_)
    if (opened.flow) now.socket_buffer += opened.flow->receive_drops();
  return now;
}

void UdpFlows::add_channel_drops(UdpShellDrops& to, const datagram::DatagramChannel& channel) {
  auto c = channel.counters();
  to.receive_queue_full += c.dropped_on_receive;
  to.transport += c.dropped_in_transport;
}

void UdpFlows::release_later(Opened opened) {
  if (opened.flow) drops_.socket_buffer += opened.flow->receive_drops();
  if (!opened.flow && !opened.backend) return;
  boost::asio::post(io_, [gone = std::move(opened)]() mutable {
    gone.flow.reset();  // before its backend
  });
}

}  // namespace warren::core

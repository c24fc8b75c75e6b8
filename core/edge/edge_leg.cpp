#include "core/edge/edge_leg.hpp"

#include "core/edge/edge_server.hpp"
#include "core/edge/tracked_stream.hpp"
#include "core/log/logging.hpp"

#include <warren/sdk/endpoint.hpp>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

namespace warren::core {

namespace {

// The limits' key for the connector's address; an unparsable one (not
// expected from a transport) shares the unspecified address's key.
SourceKey source_of(const std::string& remote) {
  boost::system::error_code ec;
  auto endpoint = sdk::parse_endpoint(remote);
  auto address = endpoint ? boost::asio::ip::make_address(endpoint->host, ec) : boost::asio::ip::address{};
  return SourceKey::of(ec ? boost::asio::ip::address{} : address);
}

// The server logs these once per source per interval, not once per attempt.
bool logged_by_server(sdk::errc code) {
  return code == sdk::errc::auth_failed || code == sdk::errc::tunnel_unknown || code == sdk::errc::rate_limited;
}

EdgeLegTimings timings_of(const EdgeConfig& config) {
  EdgeLegTimings t;
  t.handshake_timeout = config.edge.handshake_timeout;
  t.heartbeat_interval = config.edge.heartbeat_interval;
  return t;
}

}  // namespace

EdgeLeg::EdgeLeg(EdgeServer& server, LegId id, sdk::ConnectionPtr connection)
    : server_(server),
      id_(id),
      connection_(std::move(connection)),
      remote_(connection_->remote_address()),
      engine_(timings_of(server.config_), sdk::Clock::now()),
      timer_(connection_->get_executor()) {}

void EdgeLeg::start() {
  pump();  // the registration deadline
  connection_->async_accept_stream([self = shared_from_this()](sdk::error_code ec, sdk::ByteStreamPtr stream) {
    if (self->ended_) return;
    if (ec) return self->end(ec);
    self->control_ = std::make_shared<ControlChannel>(std::move(stream));
    self->control_->async_read([self](sdk::error_code e, protocol::ControlMessage m) {
      self->on_register(e, std::move(m));
    });
  });
}

void EdgeLeg::pump() {
  if (ended_) return;
  while (auto action = engine_.poll_action()) {
    if (auto* ack = std::get_if<SendUnregisterAck>(&*action)) {
      if (control_) control_->send(protocol::UnregisterAck{ack->streams_opened});
    } else if (auto* stop = std::get_if<EndLeg>(&*action)) {
      if (tunnel_id_.empty())
        log().info("connection from {}: {}", remote_, stop->why);
      else
        tunnel_log(tunnel_id_, conn_index_).info("from {}: {}", remote_, stop->why);
      return end(stop->reason);
    }
  }
  auto next = engine_.next_timeout();
  if (!next) return void(timer_.cancel());
  timer_.expires_at(*next);
  timer_.async_wait([self = shared_from_this()](sdk::error_code ec) {
    if (ec || self->ended_) return;
    self->engine_.handle_timeout(sdk::Clock::now());
    self->pump();
  });
}

void EdgeLeg::log_malformed(sdk::error_code ec) {
  if (ec != sdk::errc::protocol_error) return;
  ++server_.metrics_.protocol_errors;
  log().warn("connection from {}: malformed control frame: {}", remote_, control_->protocol_error_reason());
}

void EdgeLeg::on_register(sdk::error_code ec, protocol::ControlMessage message) {
  if (ended_) return;
  log_malformed(ec);
  if (ec) return end(ec);
  auto* request = std::get_if<protocol::RegisterConnection>(&message);
  if (!request) {
    ++server_.metrics_.protocol_errors;
    log().warn("connection from {}: first control message was not a registration", remote_);
    return end(sdk::errc::protocol_error);
  }
  auto result = server_.admit(id_, source_of(remote_), *request);
  if (auto* rejected = std::get_if<protocol::Rejected>(&result)) return reject(*rejected);

  auto& admission = std::get<Admission>(result);
  tunnel_id_ = admission.tunnel_id;
  conn_index_ = request->conn_index;
  registered_at_ = std::chrono::system_clock::now();
  engine_.handle_registered(sdk::Clock::now(), request->protocol_version);
  const auto& edge = server_.config_.edge;
  protocol::Registered registered;
  registered.edge_id = edge.id;
  registered.location = edge.id;
  registered.public_address = sdk::format_host_port(edge.public_host, admission.public_port);
  registered.heartbeat_interval = std::chrono::duration_cast<std::chrono::milliseconds>(edge.heartbeat_interval);
  // This edge reads replies; it tells a connector that offered them to send them.
  stream_replies_ = request->stream_replies;
  registered.stream_replies = stream_replies_;
  if (!admission.token.empty()) {
    registered.tunnel_id = admission.tunnel_id;
    registered.token = admission.token;
  }
  const TunnelEntry* udp = server_.udp_entry(tunnel_id_);
  if (udp) {
    registered.kind = protocol::StreamKind::udp;
    registered.flow_idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(udp->flows.idle_timeout);
  }
  control_->send(registered);
  tunnel_log(tunnel_id_, conn_index_)
      .info("registered from {} ({}, protocol {}, connector {}; public {})", remote_,
            request->client_version.empty() ? "unnamed client" : request->client_version, request->protocol_version,
            request->connector_id.empty() ? "without an id" : request->connector_id, registered.public_address);
  if (udp) open_udp_stream(registered.public_address);
  pump();
  read_next();
}

void EdgeLeg::reject(const protocol::Rejected& rejected) {
  ++server_.metrics_.registrations_refused[sdk::name(rejected.code)];
  if (!logged_by_server(rejected.code)) log().info("refused connection from {}: {}", remote_, rejected.message);
  control_->send(rejected);
  control_->close_after_sends();
  engine_.handle_refused(sdk::Clock::now());
  pump();
  // The connector usually closes first; its end completes this read.
  control_->async_read([self = shared_from_this(), code = rejected.code](sdk::error_code, protocol::ControlMessage) {
    self->end(code);
  });
}

void EdgeLeg::read_next() {
  control_->async_read([self = shared_from_this()](sdk::error_code ec, protocol::ControlMessage m) {
    self->on_message(ec, std::move(m));
  });
}

void EdgeLeg::on_message(sdk::error_code ec, protocol::ControlMessage message) {
  if (ended_) return;
  log_malformed(ec);
  if (ec) return end(ec);
  auto now = sdk::Clock::now();
  if (auto* heartbeat = std::get_if<protocol::Heartbeat>(&message)) {
    control_->send(protocol::HeartbeatAck{heartbeat->sequence, heartbeat->sent_at_ns});
    engine_.handle_heartbeat(now);
    server_.registry_.heard_from(id_, now);
  } else if (auto* unregister = std::get_if<protocol::Unregister>(&message)) {
    if (engine_.phase() == EdgeLegPhase::registered)
      tunnel_log(tunnel_id_, conn_index_)
          .info("from {} unregistered; draining for up to {}", remote_, sdk::format_duration(unregister->grace_period));
    server_.leg_draining(id_);
    engine_.handle_unregister(now, unregister->grace_period);
  } else {
    ++server_.metrics_.protocol_errors;
    log().warn("tunnel '{}' leg from {}: unexpected control message", tunnel_id_, remote_);
    return end(sdk::errc::protocol_error);
  }
  pump();
  read_next();
}

void EdgeLeg::open_data_stream(sdk::StreamHandler ready) {
  if (ended_ || !engine_.accepts_streams()) {
    return boost::asio::post(connection_->get_executor(), [ready = std::move(ready)]() mutable {
      std::move(ready)(sdk::make_error_code(sdk::errc::peer_closed), nullptr);
    });
  }
  engine_.handle_stream_open_started();
  connection_->async_open_stream(
      [self = shared_from_this(), ready = std::move(ready)](sdk::error_code ec, sdk::ByteStreamPtr stream) mutable {
        self->engine_.handle_stream_open_finished(!ec);
        self->pump();
        if (ec) return std::move(ready)(ec, nullptr);
        auto tracked = std::make_unique<TrackedStream>(std::move(stream), [weak = std::weak_ptr(self)] {
          if (auto session = weak.lock()) {
            session->engine_.handle_stream_closed();
            session->pump();
          }
        });
        std::move(ready)(sdk::error_code{}, std::move(tracked));
      });
}

void EdgeLeg::drain(sdk::Duration grace) {
  if (ended_) return;
  engine_.handle_edge_drain(sdk::Clock::now(), grace);
  pump();
}

void EdgeLeg::end(sdk::error_code reason) {
  if (ended_) return;
  ended_ = true;
  engine_.handle_ended();
  timer_.cancel();
  if (control_) control_->abort();
  connection_->close(reason);
  // Streams of this connection fail on their own; the registry stops using it now.
  server_.leg_gone(id_);
}

std::string EdgeLeg::name() const {
  if (tunnel_id_.empty()) return "the connection from " + remote_;
  return "tunnel '" + tunnel_id_ + "' leg " + std::to_string(conn_index_) + " (from " + remote_ + ")";
}

}  // namespace warren::core

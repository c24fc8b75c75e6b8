#include "core/edge/leg_session.hpp"

#include "core/edge/edge_server.hpp"
#include "core/log/logging.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

namespace warren::core {

using namespace std::chrono_literals;

namespace {
std::string code_name(sdk::errc code) { return sdk::make_error_code(code).message(); }
}  // namespace

LegSession::LegSession(EdgeServer& server, LegId id, sdk::ConnectionPtr connection)
    : server_(server),
      id_(id),
      connection_(std::move(connection)),
      remote_(connection_->remote_address()),
      deadline_(connection_->get_executor()) {}

void LegSession::start() {
  // The connector must open its control stream and register in time.
  deadline_.expires_after(server_.config_.edge.handshake_timeout);
  deadline_.async_wait([self = shared_from_this()](sdk::error_code ec) {
    if (!ec && !self->registered_) {
      log().info("connection from {} did not register in time", self->remote_);
      self->end(sdk::errc::handshake_timeout);
    }
  });
  connection_->async_accept_stream([self = shared_from_this()](sdk::error_code ec, sdk::ByteStreamPtr stream) {
    if (self->ended_) return;
    if (ec) return self->end(ec);
    self->control_ = std::make_shared<ControlChannel>(std::move(stream));
    self->control_->async_read([self](sdk::error_code e, protocol::ControlMessage m) {
      self->on_register(e, std::move(m));
    });
  });
}

void LegSession::on_register(sdk::error_code ec, protocol::ControlMessage message) {
  if (ended_) return;
  if (ec == sdk::errc::protocol_error) {
    ++server_.metrics_.protocol_errors;
    log().warn("connection from {}: malformed control frame: {}", remote_, control_->protocol_error_reason());
  }
  if (ec) return end(ec);
  auto* request = std::get_if<protocol::RegisterConnection>(&message);
  if (!request) {
    ++server_.metrics_.protocol_errors;
    log().warn("connection from {}: first control message was not a registration", remote_);
    return end(sdk::errc::protocol_error);
  }
  auto result = server_.admit(id_, *request);
  if (auto* rejected = std::get_if<protocol::Rejected>(&result)) return reject(*rejected);

  auto& admission = std::get<Admission>(result);
  registered_ = true;
  tunnel_id_ = admission.tunnel_id;
  const auto& edge = server_.config_.edge;
  protocol::Registered registered;
  registered.edge_id = edge.id;
  registered.location = edge.id;
  registered.public_address = edge.public_host + ":" + std::to_string(admission.public_port);
  registered.heartbeat_interval = std::chrono::duration_cast<std::chrono::milliseconds>(edge.heartbeat_interval);
  if (!admission.token.empty()) {
    registered.tunnel_id = admission.tunnel_id;
    registered.token = admission.token;
  }
  control_->send(registered);
  log().info("tunnel '{}' leg {} registered from {} (public {})", tunnel_id_, request->conn_index, remote_,
             registered.public_address);
  arm_liveness();
  read_next();
}

void LegSession::reject(const protocol::Rejected& rejected) {
  ++server_.metrics_.registrations_refused[code_name(rejected.code)];
  log().info("refused connection from {}: {}", remote_, rejected.message);
  control_->send(rejected);
  control_->close_after_sends();
  // Give the refusal time to reach the connector, then close.
  deadline_.expires_after(2s);
  deadline_.async_wait([self = shared_from_this(), code = rejected.code](sdk::error_code ec) {
    if (!ec) self->end(code);
  });
  // The connector usually closes first; its end completes this read.
  control_->async_read([self = shared_from_this(), code = rejected.code](sdk::error_code, protocol::ControlMessage) {
    self->end(code);
  });
}

void LegSession::read_next() {
  control_->async_read([self = shared_from_this()](sdk::error_code ec, protocol::ControlMessage m) {
    self->on_message(ec, std::move(m));
  });
}

void LegSession::arm_liveness() {
  // Heartbeats arrive every interval; silence for many of them means a dead
  // connector even if the transport has not noticed yet.
  auto limit = std::max<sdk::Duration>(8s, server_.config_.edge.heartbeat_interval * 16);
  deadline_.expires_after(limit);
  deadline_.async_wait([self = shared_from_this()](sdk::error_code ec) {
    if (!ec) {
      log().info("tunnel '{}': no heartbeat from {}; dropping the leg", self->tunnel_id_, self->remote_);
      self->end(sdk::errc::heartbeat_timeout);
    }
  });
}

void LegSession::on_message(sdk::error_code ec, protocol::ControlMessage message) {
  if (ended_) return;
  if (ec == sdk::errc::protocol_error) {
    ++server_.metrics_.protocol_errors;
    log().warn("tunnel '{}' leg from {}: malformed control frame: {}", tunnel_id_, remote_,
               control_->protocol_error_reason());
  }
  if (ec) return end(ec);
  if (auto* heartbeat = std::get_if<protocol::Heartbeat>(&message)) {
    control_->send(protocol::HeartbeatAck{heartbeat->sequence, heartbeat->sent_at_ns});
    arm_liveness();
  } else if (std::get_if<protocol::Unregister>(&message)) {
    log().info("tunnel '{}' leg from {} unregistered; draining", tunnel_id_, remote_);
    server_.registry_.drain_leg(id_);
  } else {
    ++server_.metrics_.protocol_errors;
    log().warn("tunnel '{}' leg from {}: unexpected control message", tunnel_id_, remote_);
    return end(sdk::errc::protocol_error);
  }
  read_next();
}

void LegSession::open_data_stream(const protocol::StreamHeader& header, sdk::StreamHandler ready) {
  if (ended_) {
    return boost::asio::post(connection_->get_executor(), [ready = std::move(ready)]() mutable {
      std::move(ready)(sdk::make_error_code(sdk::errc::peer_closed), nullptr);
    });
  }
  connection_->async_open_stream([self = shared_from_this(), header, ready = std::move(ready)](
                                     sdk::error_code ec, sdk::ByteStreamPtr stream) mutable {
    if (ec) return std::move(ready)(ec, nullptr);
    auto* raw = stream.get();
    async_write_stream_header(*raw, header, [stream = std::move(stream), ready = std::move(ready)](
                                                sdk::error_code e) mutable {
      if (e) return std::move(ready)(e, nullptr);
      std::move(ready)(sdk::error_code{}, std::move(stream));
    });
  });
}

void LegSession::end(sdk::error_code reason) {
  if (ended_) return;
  ended_ = true;
  deadline_.cancel();
  if (control_) control_->abort();
  connection_->close(reason);
  // Streams of this connection fail on their own; the registry stops using it now.
  server_.leg_gone(id_);
}

}  // namespace warren::core

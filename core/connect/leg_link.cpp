#include "core/connect/leg_link.hpp"

#include "core/log/logging.hpp"

#include <spdlog/spdlog.h>

namespace warren::core {

LegLink::LegLink(unsigned index, sdk::ConnectionPtr connection, sdk::Backend& backend, SpliceTracker& splices,
                 LegEvents events)
    : index_(index),
      connection_(std::move(connection)),
      backend_(backend),
      splices_(splices),
      events_(std::move(events)) {}

void LegLink::register_with(const protocol::RegisterConnection& request) {
  connection_->async_open_stream([self = shared_from_this(), request](sdk::error_code ec, sdk::ByteStreamPtr stream) {
    if (self->closed_) return;
    if (ec) return self->report_lost(ec);
    self->control_ = std::make_shared<ControlChannel>(std::move(stream));
    self->control_->send(request);
    self->read_control();
  });
}

void LegLink::read_control() {
  control_->async_read([self = shared_from_this()](sdk::error_code ec, protocol::ControlMessage m) {
    self->on_control(ec, std::move(m));
  });
}

void LegLink::on_control(sdk::error_code ec, protocol::ControlMessage message) {
  if (closed_) return;
  if (ec == sdk::errc::protocol_error)
    log().warn("leg {}: malformed control frame from the edge: {}", index_, control_->protocol_error_reason());
  if (ec) return report_lost(ec);
  if (auto* registered = std::get_if<protocol::Registered>(&message); registered && !registered_) {
    registered_ = true;
    accept_streams();
    events_.registered(*registered);
  } else if (auto* rejected = std::get_if<protocol::Rejected>(&message); rejected && !registered_) {
    closed_ = true;  // the shell decides what comes next
    events_.rejected(*rejected);
    return;
  } else if (auto* ack = std::get_if<protocol::HeartbeatAck>(&message); ack && registered_) {
    events_.heartbeat_ack(ack->sequence);
  } else {
    log().warn("leg {}: unexpected control message from the edge", index_);
    return report_lost(sdk::errc::protocol_error);
  }
  read_control();
}

void LegLink::send_heartbeat(std::uint64_t sequence) {
  if (!control_ || closed_) return;
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(sdk::Clock::now().time_since_epoch());
  control_->send(protocol::Heartbeat{sequence, now.count()});
}

void LegLink::send_unregister(sdk::Duration grace) {
  if (!control_ || closed_) return;
  control_->send(protocol::Unregister{std::chrono::duration_cast<std::chrono::milliseconds>(grace)});
}

void LegLink::accept_streams() {
  connection_->async_accept_stream([self = shared_from_this()](sdk::error_code ec, sdk::ByteStreamPtr stream) {
    if (self->closed_) return;
    if (ec) return self->report_lost(ec);
    self->deliver(std::move(stream));
    self->accept_streams();
  });
}

void LegLink::deliver(sdk::ByteStreamPtr stream) {
  if (!accepting_) return stream->abort();
  auto* raw = stream.get();
  async_read_stream_header(
      *raw, [this_leg = index_, &backend = backend_, &splices = splices_, stream = std::move(stream)](
                sdk::error_code ec, protocol::StreamHeader header, std::vector<std::uint8_t> rest) mutable {
        if (ec) {
          log().warn("leg {}: bad stream header from the edge ({}); resetting the stream", this_leg, ec.message());
          return stream->abort();
        }
        // The backend may take a while; the header's bytes wait in `rest`.
        backend.async_connect(sdk::StreamInfo{header.client_address, header.listener},
                              [stream = std::move(stream), rest = std::move(rest), header, &splices](
                                  sdk::error_code e, sdk::ByteStreamPtr local) mutable {
                                if (e) {
                                  log().info("backend refused the stream from {}: {}", header.client_address,
                                             e.message());
                                  return stream->abort();
                                }
                                splice(std::move(stream), std::move(local), std::move(rest),
                                       [](const SpliceResult&) {}, &splices);
                              });
      });
}

void LegLink::report_lost(sdk::error_code ec) {
  if (closed_) return;
  closed_ = true;
  events_.lost(ec);
}

void LegLink::close(sdk::error_code reason) {
  closed_ = true;
  if (control_) control_->abort();
  connection_->close(reason);
}

}  // namespace warren::core

#include "core/connector/connector_leg.hpp"

#include "core/log/logging.hpp"

#include <spdlog/spdlog.h>

namespace warren::core {

ConnectorLeg::ConnectorLeg(unsigned index, sdk::ConnectionPtr connection, std::shared_ptr<const void> owner,
                           BackendSource backend, SpliceTracker& splices, LegEvents events)
    : index_(index),
      owner_(std::move(owner)),
      connection_(std::move(connection)),
      backend_(std::move(backend)),
      splices_(splices),
      events_(std::move(events)) {}

void ConnectorLeg::register_with(const protocol::RegisterConnection& request) {
  connection_->async_open_stream([self = shared_from_this(), request](sdk::error_code ec, sdk::ByteStreamPtr stream) {
    if (self->closed_) return;
    if (ec) return self->report_lost(ec);
    self->control_ = std::make_shared<ControlChannel>(std::move(stream));
    auto offer = request;
    offer.stream_replies = true;  // used only if the edge says it reads them
    self->control_->send(offer);
    self->read_control();
  });
}

void ConnectorLeg::read_control() {
  control_->async_read([self = shared_from_this()](sdk::error_code ec, protocol::ControlMessage m) {
    self->on_control(ec, std::move(m));
  });
}

void ConnectorLeg::on_control(sdk::error_code ec, protocol::ControlMessage message) {
  if (closed_) return;
  if (ec == sdk::errc::protocol_error)
    leg_log(index_).warn("malformed control frame from the edge: {}", control_->protocol_error_reason());
  if (ec) return report_lost(ec);
  if (auto* registered = std::get_if<protocol::Registered>(&message); registered && !registered_) {
    registered_ = true;
    stream_replies_ = registered->stream_replies;
    accept_streams();
    events_.registered(*registered);
    if (!closed_ && registered->kind == protocol::StreamKind::udp) start_udp(*registered);
  } else if (auto* rejected = std::get_if<protocol::Rejected>(&message); rejected && !registered_) {
    closed_ = true;  // the shell decides what comes next
    events_.rejected(*rejected);
    return;
  } else if (auto* ack = std::get_if<protocol::HeartbeatAck>(&message); ack && registered_) {
    auto sent = sdk::Clock::time_point(
        std::chrono::duration_cast<sdk::Clock::duration>(std::chrono::nanoseconds(ack->sent_at_ns)));
    events_.heartbeat_ack(ack->sequence, sdk::Clock::now() - sent);
  } else if (auto* beat = std::get_if<protocol::Heartbeat>(&message); beat && registered_) {
    // Either side may probe (control.capnp); answering keeps an edge that does happy.
    control_->send(protocol::HeartbeatAck{beat->sequence, beat->sent_at_ns});
  } else if (auto* done = std::get_if<protocol::UnregisterAck>(&message);
             done && registered_ && draining_ && !edge_opened_) {
    edge_opened_ = done->streams_opened;
    events_.unregister_acked(done->streams_opened);
  } else {
    leg_log(index_).warn("unexpected control message from the edge");
    return report_lost(sdk::errc::protocol_error);
  }
  if (!closed_) read_control();
}

void ConnectorLeg::send_heartbeat(std::uint64_t sequence) {
  if (!control_ || closed_) return;
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(sdk::Clock::now().time_since_epoch());
  control_->send(protocol::Heartbeat{sequence, now.count()});
}

void ConnectorLeg::stop_accepting_streams() {
  draining_ = true;
  if (udp_) udp_->drain();
}

void ConnectorLeg::send_unregister(sdk::Duration grace) {
  if (!control_ || closed_) return;
  draining_ = true;
  if (udp_) udp_->drain();
  control_->send(protocol::Unregister{std::chrono::duration_cast<std::chrono::milliseconds>(grace)});
}

void ConnectorLeg::accept_streams() {
  connection_->async_accept_stream([self = shared_from_this()](sdk::error_code ec, sdk::ByteStreamPtr stream) {
    if (self->closed_) return;
    if (ec) return self->report_lost(ec);
    self->deliver(std::move(stream));
    if (!self->closed_) self->accept_streams();
  });
}

void ConnectorLeg::deliver(sdk::ByteStreamPtr stream) {
  // While draining, a stream the edge opened before it read our Unregister is
  // still served; one beyond its count cannot be (the edge promised none).
  if (draining_ && edge_opened_ && arrived_ >= *edge_opened_) return stream->abort();
  ++arrived_;
  ++open_;
  events_.stream_opened();
  auto* raw = stream.get();
  async_read_stream_header(*raw, [self = shared_from_this(), stream = std::move(stream)](
                                     sdk::error_code ec, protocol::StreamHeader header,
                                     std::vector<std::uint8_t> rest) mutable {
    if (ec || self->closed_) {
      if (ec && !self->closed_)
        leg_log(self->index_).warn("bad stream header from the edge ({}); resetting the stream", ec.message());
      stream->abort();
      return self->stream_ended();
    }
    if (header.kind == protocol::StreamKind::udp)
      return self->attach_udp_stream(std::move(stream), std::move(rest));
    self->connect_backend(std::move(stream), std::move(header), std::move(rest));
  });
}

void ConnectorLeg::start_udp(const protocol::Registered& registered) {
  auto flows = udp_flows_.lock();
  if (!flows || udp_) return;
  flows->configure(registered.flow_idle_timeout);
  udp_ = std::make_shared<UdpLeg>(udp_flows_, *connection_, registered.public_address, index_);
  udp_->start();
}

// No StreamReply and no backend connect: the stream carries flow frames
// (contract: issue 13). It stays counted open until the UdpLeg lets it go.
void ConnectorLeg::attach_udp_stream(sdk::ByteStreamPtr stream, std::vector<std::uint8_t> rest) {
  if (!udp_) {
    // A datagram stream spliced as bytes would corrupt both sides.
    leg_log(index_).warn("the edge sent a UDP stream on a tcp tunnel's leg; resetting it");
    stream->abort();
    return stream_ended();
  }
  udp_->attach_stream(std::move(stream), std::move(rest), [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->stream_ended();
  });
}

void ConnectorLeg::connect_backend(sdk::ByteStreamPtr stream, protocol::StreamHeader header,
                              std::vector<std::uint8_t> rest) {
  // The backend may take a while; the header's bytes wait in `rest`. The
  // stream stays with the backend current now, even if a reload replaces it.
  auto backend = backend_();
  auto* raw = backend.get();
  raw->async_connect(sdk::StreamInfo{header.client_address, header.listener},
                         [self = shared_from_this(), stream = std::move(stream), rest = std::move(rest), header,
                          backend = std::move(backend)](sdk::error_code e, sdk::ByteStreamPtr local) mutable {
                           if (!self->closed_ && self->events_.backend_result)
                             self->events_.backend_result(header.client_address, e);
                           if (local && (e || self->closed_)) {
                             local->abort();
                             local.reset();  // before its backend
                           }
                           if (self->closed_) {
                             stream->abort();
                             return self->stream_ended();
                           }
                           if (e) return self->refuse(std::move(stream), e);
                           self->accept(std::move(stream), std::move(local), std::move(rest), std::move(backend));
                         });
}

// The reply goes out before any backend byte: the edge keeps the client's
// bytes until it reads it, and replays them on another leg if this stream
// dies first. The one window where a request can reach two backends: this
// process dies after the splice wrote client bytes to the backend but
// before the packet carrying the reply left it (or that packet is lost and
// never retransmitted). The reply is queued before the splice starts and
// goes out in the next packet the loop sends, so that window is the rest of
// one event-loop turn (plus a loss) — microseconds on a live process.
void ConnectorLeg::accept(sdk::ByteStreamPtr stream, sdk::ByteStreamPtr local, std::vector<std::uint8_t> rest,
                          std::shared_ptr<sdk::Backend> backend) {
  if (!stream_replies_) return start_splice(std::move(stream), std::move(local), std::move(rest), std::move(backend));
  auto* raw = stream.get();
  async_write_stream_reply(*raw, protocol::StreamReply{},
                           [self = shared_from_this(), stream = std::move(stream), local = std::move(local),
                            rest = std::move(rest), backend = std::move(backend)](sdk::error_code ec) mutable {
                             if (ec || self->closed_) {
                               stream->abort();
                               local->abort();
                               local.reset();  // before its backend
                               return self->stream_ended();
                             }
                             self->start_splice(std::move(stream), std::move(local), std::move(rest),
                                                std::move(backend));
                           });
}

// The backend did not take the stream. An edge that reads replies learns
// why and may try another replica's leg (nothing reached any backend);
// otherwise the stream is reset, as before replies.
void ConnectorLeg::refuse(sdk::ByteStreamPtr stream, sdk::error_code why) {
  if (!stream_replies_) {
    stream->abort();
    return stream_ended();
  }
  auto code = sdk::errc::backend_refused;
  for (auto known : {sdk::errc::backend_timeout, sdk::errc::remote_not_allowed, sdk::errc::shutting_down})
    if (why == known) code = known;
  auto* raw = stream.get();
  async_write_stream_reply(*raw, protocol::StreamReply{code},
                           [self = shared_from_this(), stream = std::move(stream)](sdk::error_code ec) mutable {
                             // The FIN follows the refusal; the edge resets the stream once it has read it.
                             if (!ec) stream->shutdown_send();
                             stream.reset();
                             self->stream_ended();
                           });
}

void ConnectorLeg::start_splice(sdk::ByteStreamPtr stream, sdk::ByteStreamPtr local, std::vector<std::uint8_t> rest,
                                std::shared_ptr<sdk::Backend> backend) {
  auto id = next_splice_++;
  spliced_[id] = Spliced{stream.get(), local.get()};
  // The backend's plugin made `local`: the splice keeps it until both ends are gone.
  SpliceOptions options;
  options.tracker = &splices_;
  options.bytes = bytes_;
  options.keep_alive = std::move(backend);
  splice(std::move(stream), std::move(local), std::move(rest),
         [self = shared_from_this(), id](const SpliceResult&) {
           // Both ends are still alive here; forget them before the splice goes.
           self->spliced_.erase(id);
           self->stream_ended();
         },
         options);
}

void ConnectorLeg::stream_ended() {
  if (open_ > 0) --open_;
  if (!closed_) events_.stream_closed();
}

// The connection is gone: every stream of it ends now, including splices
// whose backend side is idle and would otherwise never notice.
void ConnectorLeg::reset_streams() {
  for (auto& [id, ends] : spliced_) {
    ends.tunnel->abort();
    ends.local->abort();
  }
}

void ConnectorLeg::report_lost(sdk::error_code ec) {
  if (closed_) return;
  closed_ = true;
  reset_streams();
  if (udp_) udp_->lost();
  events_.lost(ec);
}

void ConnectorLeg::close(sdk::error_code reason) {
  closed_ = true;
  reset_streams();
  if (udp_) udp_->lost();
  if (control_) control_->abort();
  connection_->close(reason);
}

}  // namespace warren::core

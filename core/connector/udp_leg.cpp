#include "core/connector/udp_leg.hpp"

#include "core/connector/udp_stream_part.hpp"
#include "core/log/logging.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace warren::core {

UdpLeg::UdpLeg(std::weak_ptr<UdpFlows> flows, sdk::Connection& connection, std::string listener, unsigned leg)
    : flows_(std::move(flows)), connection_(connection), listener_(std::move(listener)), leg_(leg) {
  if (auto f = flows_.lock()) origin_ = f->new_origin();
}

UdpLeg::~UdpLeg() { lost(); }

void UdpLeg::start() {
  auto flows = flows_.lock();
  if (!flows || finished_ || channel_) return;
  // At most one native channel per connection: this is it. Without native
  // datagrams (HTTP/2) every frame waits for the udp stream.
  auto native = connection_.max_datagram_size() > 0 ? datagram::make_native_channel(connection_) : nullptr;
  leg_log(leg_).debug("udp tunnel: flow frames {}", native ? "in QUIC datagrams, and on the udp stream when too large"
                                                           : "on the udp stream");
  channel_ = std::make_unique<datagram::LegChannel>(connection_.get_executor(), std::move(native), nullptr);
  flows->attach(origin_, *channel_, listener_);
  read();
}

void UdpLeg::attach_stream(sdk::ByteStreamPtr stream, std::vector<std::uint8_t> read_ahead,
                           std::function<void()> ended) {
  auto executor = stream->get_executor();
  auto part = std::make_unique<UdpStreamPart>(std::move(stream), std::move(read_ahead),
                                              [executor, ended = std::move(ended)] {
                                                // Posted: the channel may be letting it go from inside a call.
                                                boost::asio::post(executor, ended);
                                              });
  if (finished_ || !channel_) return part->abort();  // drained or lost: `part` goes here, and says so
  if (ended_) {
    // The edge opened a new udp stream on the leg: a channel anew, under the same origin.
    leg_log(leg_).debug("udp tunnel: a new udp stream from the edge; the leg carries flows again");
    auto fresh = std::make_unique<datagram::LegChannel>(connection_.get_executor(), nullptr, nullptr);
    if (auto flows = flows_.lock()) flows->attach(origin_, *fresh, listener_);
    channel_->close();
    channel_ = std::move(fresh);
    ended_ = false;
  }
  writes_ = part->writes();
  channel_->attach_stream(datagram::make_stream_channel(std::move(part)));
  if (!reading_) read();
}

void UdpLeg::read() {
  reading_ = true;
  channel_->async_receive([weak = weak_from_this()](sdk::error_code ec, sdk::Datagram frame) {
    auto self = weak.lock();
    if (!self || !self->channel_) return;
    if (ec) {
      // The carrier ended (the connection, or the only stream). A lost
      // connection is the ConnectorLeg's to report; a new udp stream reads anew.
      self->reading_ = false;
      if (ec != boost::asio::error::operation_aborted) {
        leg_log(self->leg_).debug("udp tunnel: the leg's channel ended ({})", ec.message());
        self->channel_ended();
      }
      return;
    }
    if (auto flows = self->flows_.lock()) flows->handle_frame(self->origin_, frame);
    if (self->channel_) self->read();
  });
}

void UdpLeg::channel_ended() {
  // With native datagrams the channel ends only with the connection: the ConnectorLeg's to report.
  if (finished_ || channel_->has_native()) return;
  ended_ = true;
  // The edge ended its half of these flows (leg_lost) when the stream did.
  if (auto flows = flows_.lock()) flows->detach(origin_, udp::CloseReason::leg_lost);
}

void UdpLeg::drain() {
  if (finished_) return;
  finished_ = true;
  if (auto flows = flows_.lock()) flows->detach(origin_, udp::CloseReason::shutdown);
  if (!channel_) return;
  if (!writes_ || !channel_->has_stream()) return close_channel();
  // The close frames just queued go out first. Bounded: the ConnectorLeg
  // closes the connection after its grace period, and lost() closes then.
  writes_->finishing = true;
  UdpStreamPart::when_written(writes_, connection_.get_executor(), [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->close_channel();
  });
}

void UdpLeg::lost() {
  if (!finished_) {
    finished_ = true;
    if (auto flows = flows_.lock()) flows->detach(origin_, udp::CloseReason::leg_lost);
  }
  if (writes_) writes_->finishing = false;  // nothing more goes out on a lost connection
  close_channel();
}

void UdpLeg::close_channel() {
  if (!channel_) return;
  channel_->close();
  channel_.reset();  // the udp stream goes with it: its `ended` runs
}

}  // namespace warren::core

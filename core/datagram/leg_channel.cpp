// LegChannel: one receive pending on each part at all times, their
// datagrams merged into one bounded queue; sends go native when they fit.

#include "core/datagram/leg_channel.hpp"

#include <warren/sdk/completion.hpp>

#include <boost/asio/error.hpp>

#include <algorithm>
#include <deque>
#include <utility>

namespace warren::core::datagram {
namespace {

// Arrivals held while nobody receives: as the stream channel's own queue
// (StreamChannelLimits), so a leg holds at most about twice that in all.
constexpr std::size_t queue_datagrams = 1024;
constexpr std::size_t queue_bytes = 1024 * 1024;

void add(ChannelCounters& to, const ChannelCounters& from) {
  to.sent += from.sent;
  to.received += from.received;
  to.dropped_on_send += from.dropped_on_send;
  to.dropped_on_receive += from.dropped_on_receive;
}

}  // namespace

class LegChannel::State : public std::enable_shared_from_this<LegChannel::State> {
 public:
  explicit State(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

  void set_native(DatagramChannelPtr native) {
    native_ = std::move(native);
    if (native_) receive_native();
  }

  void attach_stream(DatagramChannelPtr stream) {
    if (closed_ || !stream) return;
    retire_stream();
    stream_ = std::move(stream);
    receive_stream(++stream_generation_);
  }

  bool has_native() const { return native_ != nullptr; }
  bool has_stream() const { return stream_ != nullptr; }

  std::size_t max_datagram_size() const {
    if (closed_) return 0;
    return std::max(native_ ? native_->max_datagram_size() : 0, stream_ ? stream_->max_datagram_size() : 0);
  }

  bool send(std::span<const std::byte> payload) {
    if (!closed_) {
      if (native_ && payload.size() <= native_->max_datagram_size()) return native_->send(payload);
      if (stream_ && payload.size() <= stream_->max_datagram_size()) return stream_->send(payload);
    }
    ++own_.dropped_on_send;
    return false;
  }

  void receive(sdk::DatagramHandler handler) {
    if (closed_)
      return sdk::complete_later(executor_, std::move(handler), boost::asio::error::operation_aborted, sdk::Datagram());
    if (handler_)
      return sdk::complete_later(executor_, std::move(handler), boost::asio::error::in_progress, sdk::Datagram());
    if (!queue_.empty()) {
      sdk::Datagram next = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= next.size();
      return sdk::complete_later(executor_, std::move(handler), sdk::error_code(), std::move(next));
    }
    if (end_) return sdk::complete_later(executor_, std::move(handler), end_, sdk::Datagram());
    sdk::store_handler(handler_, std::move(handler));
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    if (native_) {
      add(own_, native_->counters());
      native_->close();
      native_.reset();  // it refers to the connection, which may go before this state does
    }
    retire_stream();
    queue_.clear();
    queued_bytes_ = 0;
    sdk::complete_if_pending(executor_, handler_, boost::asio::error::operation_aborted, sdk::Datagram());
  }

  ChannelCounters counters() const {
    ChannelCounters total = own_;
    if (native_) add(total, native_->counters());
    if (stream_) add(total, stream_->counters());
    return total;
  }

 private:
  void receive_native() {
    native_->async_receive([self = shared_from_this()](sdk::error_code ec, sdk::Datagram datagram) {
      if (self->closed_) return;
      if (ec) return self->end(ec);  // the connection ended: so does the leg's channel
      self->deliver(std::move(datagram));
      self->receive_native();
    });
  }

  void receive_stream(std::uint64_t generation) {
    stream_->async_receive([self = shared_from_this(), generation](sdk::error_code ec, sdk::Datagram datagram) {
      // A replaced or retired stream part's late completion.
      if (self->closed_ || generation != self->stream_generation_) return;
      if (ec) {
        self->retire_stream();
        // Beside a live native part the leg carries on with what fits it.
        if (!self->native_) self->end(ec);
        return;
      }
      self->deliver(std::move(datagram));
      self->receive_stream(generation);
    });
  }

  /// Lets the stream part go, keeping its counts.
  void retire_stream() {
    if (!stream_) return;
    ++stream_generation_;
    add(own_, stream_->counters());
    stream_->close();
    stream_.reset();
  }

  void deliver(sdk::Datagram datagram) {
    if (handler_) return sdk::complete_if_pending(executor_, handler_, sdk::error_code(), std::move(datagram));
    if (queue_.size() >= queue_datagrams || queued_bytes_ + datagram.size() > queue_bytes) {
      ++own_.dropped_on_receive;
      return;
    }
    queued_bytes_ += datagram.size();
    queue_.push_back(std::move(datagram));
  }

  void end(sdk::error_code reason) {
    if (end_) return;
    end_ = reason;
    if (queue_.empty()) sdk::complete_if_pending(executor_, handler_, reason, sdk::Datagram());
  }

  boost::asio::any_io_executor executor_;
  DatagramChannelPtr native_;
  DatagramChannelPtr stream_;
  std::uint64_t stream_generation_ = 0;
  ChannelCounters own_;  ///< drops of its own, and the counts of stream parts let go
  std::deque<sdk::Datagram> queue_;
  std::size_t queued_bytes_ = 0;
  sdk::DatagramHandler handler_;
  sdk::error_code end_;
  bool closed_ = false;
};

LegChannel::LegChannel(boost::asio::any_io_executor executor, DatagramChannelPtr native, DatagramChannelPtr stream)
    : state_(std::make_shared<State>(std::move(executor))) {
  state_->set_native(std::move(native));
  state_->attach_stream(std::move(stream));
}

LegChannel::~LegChannel() { state_->close(); }

void LegChannel::attach_stream(DatagramChannelPtr stream) { state_->attach_stream(std::move(stream)); }
bool LegChannel::has_native() const { return state_->has_native(); }
bool LegChannel::has_stream() const { return state_->has_stream(); }
std::size_t LegChannel::max_datagram_size() const { return state_->max_datagram_size(); }
bool LegChannel::send(std::span<const std::byte> payload) { return state_->send(payload); }
void LegChannel::close() { state_->close(); }
ChannelCounters LegChannel::counters() const { return state_->counters(); }
void LegChannel::async_receive_impl(sdk::DatagramHandler handler) { state_->receive(std::move(handler)); }

}  // namespace warren::core::datagram

// LegChannel: one receive pending on each part at all times, their
// datagrams merged into one bounded queue; sends go native when they fit.

#include "core/datagram/leg_channel.hpp"
#include "core/datagram/receive_queue.hpp"

#include <algorithm>
#include <utility>

namespace warren::core::datagram {
namespace {

// Arrivals held while nobody receives. Each part hands over one datagram
// per completion and the reader takes one per completion, so this queue
// holds little while the reader keeps a receive pending (the parts' own
// queues hold the bursts); it is bounded as the stream channel's
// (StreamChannelLimits), bytes charged as queue_charge().
constexpr std::size_t queue_datagrams = 16384;
constexpr std::size_t queue_bytes = 2 * 1024 * 1024;

void add(ChannelCounters& to, const ChannelCounters& from) {
  to.sent += from.sent;
  to.received += from.received;
  to.dropped_on_send += from.dropped_on_send;
  to.dropped_on_receive += from.dropped_on_receive;
  to.dropped_in_transport += from.dropped_in_transport;
}

}  // namespace

class LegChannel::State : public std::enable_shared_from_this<LegChannel::State> {
 public:
  explicit State(boost::asio::any_io_executor executor)
      : received_(std::move(executor), queue_datagrams, queue_bytes) {}

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

  void receive(sdk::DatagramHandler handler) { received_.receive(std::move(handler)); }

  void close() {
    if (closed_) return;
    closed_ = true;
    if (native_) {
      add(own_, native_->counters());
      native_->close();
      native_.reset();  // it refers to the connection, which may go before this state does
    }
    retire_stream();
    received_.abort();
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
    if (!received_.deliver(std::move(datagram))) ++own_.dropped_on_receive;
  }

  void end(sdk::error_code reason) { received_.end(reason); }

  DatagramChannelPtr native_;
  DatagramChannelPtr stream_;
  std::uint64_t stream_generation_ = 0;
  ChannelCounters own_;  ///< drops of its own, and the counts of stream parts let go
  ReceiveQueue received_;
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

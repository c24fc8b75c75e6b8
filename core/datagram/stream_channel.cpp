// The stream DatagramChannel: datagrams framed on a ByteStream of their own
// (datagram_framing.hpp), for a transport without datagrams. The send side
// keeps a bounded queue and drops past it while the stream is
// backpressured. The receive side stops reading while its queue is half
// full (ReceiveQueue::half_full) and reads again as receives take from it:
// one read of small frames brings thousands of datagrams at once, faster
// than a reader takes them one per completion, and a burst then waits in
// the stream's window (and past it in the sender's bounded queue, which
// counts what it drops) instead of being dropped here. Only this stream
// waits: HTTP/2 credits the connection's window as bytes arrive, and QUIC
// holds no more of it than this stream's window.

#include "core/datagram/datagram_channel.hpp"
#include "core/datagram/datagram_framing.hpp"
#include "core/datagram/receive_queue.hpp"

#include <warren/sdk/completion.hpp>

#include <boost/asio/error.hpp>

#include <algorithm>
#include <deque>
#include <utility>

namespace warren::core::datagram {
namespace {

// The most one write hands the stream: a few datagrams coalesced per write
// (one completion per chunk, not per datagram), and no more waits outside
// the bounded queue than this.
constexpr std::size_t write_chunk = 64 * 1024;
// One read's buffer: a whole maximal datagram and its prefix fit.
constexpr std::size_t read_chunk = 64 * 1024;

class StreamChannelState : public std::enable_shared_from_this<StreamChannelState> {
 public:
  StreamChannelState(sdk::ByteStreamPtr stream, StreamChannelLimits limits)
      : executor_(stream->get_executor()),
        stream_(std::move(stream)),
        limits_(limits),
        decoder_(limits.max_datagram),
        read_buffer_(read_chunk),
        received_(executor_, limits.receive_queue_datagrams, limits.receive_queue_bytes) {}

  void start() { start_read(); }

  std::size_t max_datagram_size() const { return std::min(limits_.max_datagram, max_framed_datagram); }

  bool send(std::span<const std::byte> payload) {
    std::size_t framed = payload.size() + length_prefix_size;
    if (!stream_ || write_failed_ || payload.size() > max_datagram_size() ||
        send_queue_.size() >= limits_.send_queue_datagrams || queued_bytes_ + framed > limits_.send_queue_bytes) {
      ++counters_.dropped_on_send;
      return false;
    }
    sdk::Datagram frame;
    frame.reserve(framed);
    encode_datagram(payload, max_datagram_size(), frame);
    queued_bytes_ += framed;
    send_queue_.push_back(std::move(frame));
    ++counters_.sent;
    start_write();
    return true;
  }

  void receive(sdk::DatagramHandler handler) {
    received_.receive(std::move(handler));
    if (read_paused_ && !closed_ && !received_.half_full()) {
      read_paused_ = false;
      start_read();
    }
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    lose_queued();
    // Destroying the stream resets it; its pending read and write complete
    // (operation_aborted) into handlers that see closed_ and stop.
    stream_.reset();
    received_.abort();
  }

  const ChannelCounters& counters() const { return counters_; }

 private:
  void start_write() {
    if (write_pending_ || send_queue_.empty() || !stream_) return;
    writing_.clear();
    written_ = 0;
    writing_frames_ = 0;
    while (!send_queue_.empty() && (writing_.empty() || writing_.size() + send_queue_.front().size() <= write_chunk)) {
      auto& frame = send_queue_.front();
      queued_bytes_ -= frame.size();
      writing_.insert(writing_.end(), frame.begin(), frame.end());
      send_queue_.pop_front();
      ++writing_frames_;
    }
    write_some();
  }

  void write_some() {
    write_pending_ = true;
    stream_->async_write_some(boost::asio::buffer(writing_.data() + written_, writing_.size() - written_),
                              [self = shared_from_this()](sdk::error_code ec, std::size_t n) { self->on_written(ec, n); });
  }

  void on_written(sdk::error_code ec, std::size_t n) {
    write_pending_ = false;
    if (closed_) return;
    if (ec) {
      // The stream cannot carry more; what waits is lost, as on a dead path.
      write_failed_ = true;
      lose_queued();
      return;
    }
    written_ += n;
    if (written_ < writing_.size()) return write_some();  // a frame is never cut: finish the chunk
    writing_frames_ = 0;
    start_write();
  }

  /// Frames send() took that will never be written: counted, then let go.
  /// The chunk being written counts whole (how much of it arrived is unknown).
  void lose_queued() {
    counters_.dropped_in_transport += send_queue_.size() + writing_frames_;
    writing_frames_ = 0;
    send_queue_.clear();
    queued_bytes_ = 0;
  }

  void start_read() {
    stream_->async_read_some(boost::asio::buffer(read_buffer_),
                             [self = shared_from_this()](sdk::error_code ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(sdk::error_code ec, std::size_t n) {
    if (closed_) return;
    std::span<const std::byte> bytes(read_buffer_.data(), n);
    while (!bytes.empty()) {
      DecodeResult result = decoder_.parse(bytes);
      bytes = bytes.subspan(result.consumed);
      if (result.status == DecodeStatus::bad) {
        // A malformed length ends this stream only; the connection lives on.
        write_failed_ = true;
        stream_->abort();
        return end(sdk::make_error_code(sdk::errc::protocol_error));
      }
      if (result.status == DecodeStatus::good) deliver(std::move(result.datagram));
    }
    if (ec) return end(ec);
    // The reader is behind: wait for it (receive() reads again) rather than drop.
    if (received_.half_full()) {
      read_paused_ = true;
      return;
    }
    start_read();
  }

  void deliver(sdk::Datagram datagram) {
    ++counters_.received;
    if (!received_.deliver(std::move(datagram))) ++counters_.dropped_on_receive;
  }

  void end(sdk::error_code reason) { received_.end(reason); }

  boost::asio::any_io_executor executor_;
  sdk::ByteStreamPtr stream_;
  StreamChannelLimits limits_;
  DatagramDecoder decoder_;
  ChannelCounters counters_;
  bool closed_ = false;

  std::deque<sdk::Datagram> send_queue_;  ///< framed datagrams not yet handed to the stream
  std::size_t queued_bytes_ = 0;
  sdk::Datagram writing_;  ///< frames handed to the stream, whole ones only
  std::size_t written_ = 0;
  std::size_t writing_frames_ = 0;  ///< frames in writing_ while it is written
  bool write_pending_ = false;
  bool write_failed_ = false;

  std::vector<std::byte> read_buffer_;
  bool read_paused_ = false;  ///< the receive queue was half full after a read: no read pending
  ReceiveQueue received_;  ///< ends with why nothing more will arrive (eof, reset, malformed, closed)
};

class StreamChannel final : public DatagramChannel {
 public:
  explicit StreamChannel(std::shared_ptr<StreamChannelState> state) : state_(std::move(state)) {}
  ~StreamChannel() override { state_->close(); }
  StreamChannel(const StreamChannel&) = delete;
  StreamChannel& operator=(const StreamChannel&) = delete;

  std::size_t max_datagram_size() const override { return state_->max_datagram_size(); }
  bool send(std::span<const std::byte> payload) override { return state_->send(payload); }
  void close() override { state_->close(); }
  ChannelCounters counters() const override { return state_->counters(); }

 private:
  void async_receive_impl(sdk::DatagramHandler handler) override { state_->receive(std::move(handler)); }

  std::shared_ptr<StreamChannelState> state_;
};

}  // namespace

DatagramChannelPtr make_stream_channel(sdk::ByteStreamPtr stream, StreamChannelLimits limits) {
  auto state = std::make_shared<StreamChannelState>(std::move(stream), limits);
  state->start();
  return std::make_unique<StreamChannel>(std::move(state));
}

}  // namespace warren::core::datagram

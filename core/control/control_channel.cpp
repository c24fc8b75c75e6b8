#include "core/control/control_channel.hpp"

#include "core/protocol/frame_encoder.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace warren::core {

namespace {
constexpr std::size_t read_chunk = 4096;
}

ControlChannel::ControlChannel(sdk::ByteStreamPtr stream) : stream_(std::move(stream)), buffer_(read_chunk) {}

void ControlChannel::async_read(ReadHandler handler) { deliver_buffered(std::move(handler)); }

void ControlChannel::deliver_buffered(ReadHandler handler) {
  // Frames already received are decoded before reading more.
  while (buffered_ > 0) {
    auto result = decoder_.parse(buffer_.data(), buffer_.data() + buffered_);
    std::copy(buffer_.begin() + static_cast<std::ptrdiff_t>(result.consumed),
              buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_), buffer_.begin());
    buffered_ -= result.consumed;
    if (result.status == protocol::ParseStatus::bad) {
      protocol_error_ = result.reason;
      return boost::asio::post(stream_->get_executor(), [handler = std::move(handler)] {
        handler(sdk::errc::protocol_error, {});
      });
    }
    if (result.status == protocol::ParseStatus::good) {
      return boost::asio::post(stream_->get_executor(), [handler = std::move(handler), m = std::move(*result.message)] {
        handler({}, m);
      });
    }
  }
  // The caller's handler travels inside the stream's: should the stream's
  // be destroyed unrun (its io_context shut down), so is the caller's, and
  // with it whatever it owns (often the owner of this channel).
  stream_->async_read_some(
      boost::asio::buffer(buffer_.data() + buffered_, buffer_.size() - buffered_),
      [self = shared_from_this(), handler = std::move(handler)](sdk::error_code ec, std::size_t n) mutable {
        if (ec) {
          if (ec == boost::asio::error::eof) ec = sdk::errc::peer_closed;
          return handler(ec, {});
        }
        self->buffered_ += n;
        self->deliver_buffered(std::move(handler));
      });
}

void ControlChannel::send(const protocol::ControlMessage& message) {
  std::string why;
  auto frame = protocol::encode(message, &why);
  if (!frame) throw std::logic_error("cannot encode a control message: " + why);  // our own bug
  outbox_.push_back(std::move(*frame));
  if (!writing_) write_next();
}

void ControlChannel::close_after_sends() {
  close_when_sent_ = true;
  if (!writing_) write_next();
}

void ControlChannel::abort() { stream_->abort(); }

void ControlChannel::write_next() {
  if (outbox_.empty()) {
    writing_ = false;
    if (close_when_sent_) stream_->shutdown_send();
    return;
  }
  writing_ = true;
  boost::asio::async_write(*stream_, boost::asio::buffer(outbox_.front()),
                           [self = shared_from_this()](sdk::error_code ec, std::size_t) {
                             if (ec) {
                               self->outbox_.clear();
                               self->writing_ = false;
                               self->stream_->abort();
                               return;
                             }
                             self->outbox_.pop_front();
                             self->write_next();
                           });
}

namespace {

struct HeaderRead : std::enable_shared_from_this<HeaderRead> {
  using Handler = HeaderHandler;
  HeaderRead(sdk::ByteStream& s, Handler h) : stream(s), handler(std::move(h)), buffer(read_chunk) {}

  void next() {
    stream.async_read_some(boost::asio::buffer(buffer), [self = shared_from_this()](sdk::error_code ec, std::size_t n) {
      if (ec)
        return std::move(self->handler)(
            ec == boost::asio::error::eof ? sdk::make_error_code(sdk::errc::protocol_error) : ec,
            protocol::StreamHeader{}, std::vector<std::uint8_t>{});
      auto result = self->decoder.parse(self->buffer.data(), self->buffer.data() + n);
      if (result.status == protocol::ParseStatus::bad)
        return std::move(self->handler)(sdk::make_error_code(sdk::errc::protocol_error), protocol::StreamHeader{},
                                        std::vector<std::uint8_t>{});
      if (result.status == protocol::ParseStatus::need_more) return self->next();
      std::vector<std::uint8_t> rest(self->buffer.begin() + static_cast<std::ptrdiff_t>(result.consumed),
                                     self->buffer.begin() + static_cast<std::ptrdiff_t>(n));
      std::move(self->handler)(sdk::error_code{}, std::move(*result.message), std::move(rest));
    });
  }

  sdk::ByteStream& stream;
  Handler handler;
  std::vector<std::uint8_t> buffer;
  protocol::StreamHeaderDecoder decoder{protocol::FrameLimits::stream_header()};
};

}  // namespace

void async_read_stream_header(sdk::ByteStream& stream, HeaderHandler handler) {
  std::make_shared<HeaderRead>(stream, std::move(handler))->next();
}

namespace {

template <typename Message>
void async_write_frame(sdk::ByteStream& stream, const Message& message,
                       boost::asio::any_completion_handler<void(sdk::error_code)> handler) {
  auto frame = protocol::encode(message);
  if (!frame) {
    return boost::asio::post(stream.get_executor(), [handler = std::move(handler)]() mutable {
      std::move(handler)(sdk::make_error_code(sdk::errc::protocol_error));
    });
  }
  auto bytes = std::make_shared<protocol::FrameBytes>(std::move(*frame));
  boost::asio::async_write(stream, boost::asio::buffer(*bytes),
                           [bytes, handler = std::move(handler)](sdk::error_code ec, std::size_t) mutable {
                             std::move(handler)(ec);
                           });
}

}  // namespace

void async_write_stream_header(sdk::ByteStream& stream, const protocol::StreamHeader& header,
                               boost::asio::any_completion_handler<void(sdk::error_code)> handler) {
  async_write_frame(stream, header, std::move(handler));
}

void async_write_stream_reply(sdk::ByteStream& stream, const protocol::StreamReply& reply,
                              boost::asio::any_completion_handler<void(sdk::error_code)> handler) {
  async_write_frame(stream, reply, std::move(handler));
}

}  // namespace warren::core

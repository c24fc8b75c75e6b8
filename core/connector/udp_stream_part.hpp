#pragma once
// The edge's udp data stream as the connector hands it to its LegChannel:
// the bytes read past the StreamHeader (the first flow frames' records,
// often in the same packet) come first, then the stream's own; and the leg
// learns when the channel lets the stream go (replaced, ended, closed),
// the moment it counts the stream as finished for a drain.
//
// A drain ends the leg's flows with close frames, which the stream channel
// queues; closing it then would drop them (and over HTTP/2 a stream let go
// without its end is reset, taking the bytes written with it). So the part
// tells the leg when the channel above has handed it every byte it queued
// (no write in flight and none started from the last one's completion:
// the channel writes its next chunk from there), and once the leg marked it
// finishing, it ends its sending side before letting the stream go, which
// delivers what was written (HTTP/2: DATA then END_STREAM).

#include <warren/sdk/byte_stream.hpp>
#include <warren/sdk/completion.hpp>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

namespace warren::core {

class UdpStreamPart final : public sdk::ByteStream {
 public:
  /// What the leg keeps of the part once the channel owns it.
  struct Writes {
    bool in_flight = false;
    bool finishing = false;          ///< end the sending side before letting the stream go
    std::function<void()> on_idle;  ///< runs once no write is in flight
  };

  /// `read_ahead`: bytes already read after the header. `on_destroyed`
  /// runs once, from the destructor, after the inner stream is gone.
  UdpStreamPart(sdk::ByteStreamPtr inner, std::vector<std::uint8_t> read_ahead, std::function<void()> on_destroyed)
      : inner_(std::move(inner)), read_ahead_(std::move(read_ahead)), on_destroyed_(std::move(on_destroyed)) {}
  ~UdpStreamPart() override {
    if (writes_->finishing && !aborted_) inner_->shutdown_send();
    inner_.reset();
    if (on_destroyed_) on_destroyed_();
  }
  UdpStreamPart(const UdpStreamPart&) = delete;
  UdpStreamPart& operator=(const UdpStreamPart&) = delete;

  /// Shared with the leg, which outlives nothing here: it may hold it after the part is gone.
  std::shared_ptr<Writes> writes() const { return writes_; }
  /// Runs `done` (posted) once the channel above has handed every byte it
  /// queued to this stream: at once when no write is in flight.
  static void when_written(const std::shared_ptr<Writes>& writes, boost::asio::any_io_executor executor,
                           std::function<void()> done) {
    if (!writes->in_flight) return void(boost::asio::post(executor, std::move(done)));
    writes->on_idle = std::move(done);
  }

  executor_type get_executor() override { return inner_->get_executor(); }
  void shutdown_send() override { inner_->shutdown_send(); }
  void abort() override {
    aborted_ = true;
    read_ahead_.clear();
    used_ = 0;
    inner_->abort();
  }

 private:
  void async_read_some_impl(boost::asio::mutable_buffer buffer, sdk::ReadHandler handler) override {
    if (used_ == read_ahead_.size() || buffer.size() == 0) return inner_->async_read_some(buffer, std::move(handler));
    auto n = std::min(buffer.size(), read_ahead_.size() - used_);
    std::memcpy(buffer.data(), read_ahead_.data() + used_, n);
    used_ += n;
    sdk::complete_later(get_executor(), std::move(handler), sdk::error_code(), n);  // posted, as the contract says
  }
  void async_write_some_impl(boost::asio::const_buffer buffer, sdk::WriteHandler handler) override {
    writes_->in_flight = true;
    inner_->async_write_some(buffer, [writes = writes_, executor = get_executor(), handler = std::move(handler)](
                                         sdk::error_code ec, std::size_t n) mutable {
      writes->in_flight = false;
      std::move(handler)(ec, n);  // the channel starts its next chunk from here, if it has one
      if (writes->in_flight || !writes->on_idle) return;
      auto idle = std::move(writes->on_idle);
      writes->on_idle = nullptr;
      boost::asio::post(executor, std::move(idle));  // it may let this stream go: not from inside its completion
    });
  }

  sdk::ByteStreamPtr inner_;
  std::vector<std::uint8_t> read_ahead_;
  std::size_t used_ = 0;
  std::function<void()> on_destroyed_;
  std::shared_ptr<Writes> writes_ = std::make_shared<Writes>();
  bool aborted_ = false;
};

}  // namespace warren::core

#pragma once
// The edge's udp data stream as the connector hands it to its LegChannel:
// the bytes read past the StreamHeader (the first flow frames' records,
// often in the same packet) come first, then the stream's own; and the leg
// learns when the channel lets the stream go (replaced, ended, closed),
// the moment it counts the stream as finished for a drain.

#include <warren/sdk/byte_stream.hpp>
#include <warren/sdk/completion.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

namespace warren::core {

class UdpStreamPart final : public sdk::ByteStream {
 public:
  /// `read_ahead`: bytes already read after the header. `on_destroyed`
  /// runs once, from the destructor, after the inner stream is gone.
  UdpStreamPart(sdk::ByteStreamPtr inner, std::vector<std::uint8_t> read_ahead, std::function<void()> on_destroyed)
      : inner_(std::move(inner)), read_ahead_(std::move(read_ahead)), on_destroyed_(std::move(on_destroyed)) {}
  ~UdpStreamPart() override {
    inner_.reset();
    if (on_destroyed_) on_destroyed_();
  }
  UdpStreamPart(const UdpStreamPart&) = delete;
  UdpStreamPart& operator=(const UdpStreamPart&) = delete;

  executor_type get_executor() override { return inner_->get_executor(); }
  void shutdown_send() override { inner_->shutdown_send(); }
  void abort() override {
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
    inner_->async_write_some(buffer, std::move(handler));
  }

  sdk::ByteStreamPtr inner_;
  std::vector<std::uint8_t> read_ahead_;
  std::size_t used_ = 0;
  std::function<void()> on_destroyed_;
};

}  // namespace warren::core

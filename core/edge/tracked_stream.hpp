#pragma once
// A data stream handed out by a EdgeLeg, wrapped so the session learns
// when the edge is done with it: whoever splices it destroys it when both
// directions have ended, and that is the moment a draining leg counts the
// stream as finished. Every operation goes straight to the inner stream.

#include <warren/sdk/byte_stream.hpp>

#include <functional>

namespace warren::core {

class TrackedStream final : public sdk::ByteStream {
 public:
  /// `on_destroyed` runs once, from the destructor.
  TrackedStream(sdk::ByteStreamPtr inner, std::function<void()> on_destroyed)
      : inner_(std::move(inner)), on_destroyed_(std::move(on_destroyed)) {}
  ~TrackedStream() override {
    inner_.reset();  // its FIN (after shutdown_send) or reset goes out first
    if (on_destroyed_) on_destroyed_();
  }
  TrackedStream(const TrackedStream&) = delete;
  TrackedStream& operator=(const TrackedStream&) = delete;

  executor_type get_executor() override { return inner_->get_executor(); }
  void shutdown_send() override { inner_->shutdown_send(); }
  void abort() override { inner_->abort(); }

 private:
  void async_read_some_impl(boost::asio::mutable_buffer buffer, sdk::ReadHandler handler) override {
    inner_->async_read_some(buffer, std::move(handler));
  }
  void async_write_some_impl(boost::asio::const_buffer buffer, sdk::WriteHandler handler) override {
    inner_->async_write_some(buffer, std::move(handler));
  }

  sdk::ByteStreamPtr inner_;
  std::function<void()> on_destroyed_;
};

}  // namespace warren::core

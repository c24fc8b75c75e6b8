#pragma once
// An in-memory sdk::Connection that carries datagrams only (streams are
// refused): a loopback double of a QUIC connection's datagram half, for
// tests of what runs over DatagramChannels. The real transport is tested in
// tests/transport_conformance/conformance_datagram_test.cpp.

#include <warren/sdk/completion.hpp>
#include <warren/sdk/transport.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>

#include <deque>
#include <string>

namespace warren::test {

/// One end of an in-memory connection: datagrams only. Streams are refused.
class MemoryConnection final : public sdk::Connection {
 public:
  MemoryConnection(boost::asio::io_context& io, std::size_t max_size) : executor_(io.get_executor()), max_(max_size) {}
  void connect(MemoryConnection& peer) { peer_ = &peer; }

  executor_type get_executor() override { return executor_; }
  void close(sdk::error_code reason) override { end(reason); }
  std::string remote_address() const override { return "memory"; }
  sdk::ConnectionStats stats() const override { return stats_value; }
  std::size_t max_datagram_size() const override { return ended_ ? 0 : max_; }
  bool send_datagram(std::span<const std::byte> payload) override {
    if (ended_ || payload.size() > max_) return false;
    peer_->arrive(sdk::Datagram(payload.begin(), payload.end()));
    return true;
  }
  /// The connection ends with `reason`, as a transport's does.
  void end(sdk::error_code reason) {
    ended_ = true;
    reason_ = reason;
    sdk::complete_if_pending(executor_, handler_, reason_, sdk::Datagram());
  }
  /// The path's packets grow or shrink (PMTUD).
  void set_max_datagram_size(std::size_t max_size) { max_ = max_size; }
  int receives_started = 0;
  /// What stats() reports: a test sets the transport's own counts.
  sdk::ConnectionStats stats_value;

 private:
  void arrive(sdk::Datagram d) {
    if (handler_) return sdk::complete_if_pending(executor_, handler_, sdk::error_code(), std::move(d));
    inbox_.push_back(std::move(d));
  }
  void async_open_stream_impl(sdk::StreamHandler h) override {
    sdk::complete_later(executor_, std::move(h), boost::asio::error::operation_not_supported, sdk::ByteStreamPtr());
  }
  void async_accept_stream_impl(sdk::StreamHandler h) override {
    sdk::complete_later(executor_, std::move(h), boost::asio::error::operation_not_supported, sdk::ByteStreamPtr());
  }
  void async_receive_datagram_impl(sdk::DatagramHandler h) override {
    ++receives_started;
    if (!inbox_.empty()) {
      auto d = std::move(inbox_.front());
      inbox_.pop_front();
      return sdk::complete_later(executor_, std::move(h), sdk::error_code(), std::move(d));
    }
    if (ended_) return sdk::complete_later(executor_, std::move(h), reason_, sdk::Datagram());
    sdk::store_handler(handler_, std::move(h));
  }

  boost::asio::any_io_executor executor_;
  std::size_t max_;
  MemoryConnection* peer_ = nullptr;
  std::deque<sdk::Datagram> inbox_;
  sdk::DatagramHandler handler_;
  bool ended_ = false;
  sdk::error_code reason_;
};

}  // namespace warren::test

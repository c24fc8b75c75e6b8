#pragma once
// The receive side of a channel that merges or frames datagrams (stream
// channel, LegChannel): a datagram that arrives while a receive waits goes to
// it; else it waits in a bounded queue, past which it is dropped (the caller
// counts it). The channel's end reaches a receive after the datagrams that
// arrived before it. Completions are posted (sdk/completion.hpp).
//
// Its bytes bound charges each datagram queue_charge(): the payload and
// what holding it costs, so a flood of tiny datagrams is bounded in memory
// as a flood of large ones is.

#include <warren/sdk/completion.hpp>
#include <warren/sdk/datagram.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/error.hpp>

#include <cstddef>
#include <deque>
#include <utility>

namespace warren::core::datagram {

/// What a queued datagram costs besides its payload: the std::vector in the
/// deque (24 bytes) and its heap block's header and rounding (~16-32).
inline constexpr std::size_t queued_datagram_overhead = 64;
constexpr std::size_t queue_charge(std::size_t payload) { return payload + queued_datagram_overhead; }

class ReceiveQueue {
 public:
  ReceiveQueue(boost::asio::any_io_executor executor, std::size_t max_datagrams, std::size_t max_bytes)
      : executor_(std::move(executor)), max_datagrams_(max_datagrams), max_bytes_(max_bytes) {}

  /// A datagram arrived. False when the queue is full: dropped.
  bool deliver(sdk::Datagram datagram) {
    if (handler_) {
      sdk::complete_if_pending(executor_, handler_, sdk::error_code(), std::move(datagram));
      return true;
    }
    if (queue_.size() >= max_datagrams_ || bytes_ + queue_charge(datagram.size()) > max_bytes_) return false;
    bytes_ += queue_charge(datagram.size());
    queue_.push_back(std::move(datagram));
    return true;
  }

  /// The next datagram, or the end once none is left; in_progress when a
  /// receive is pending already.
  void receive(sdk::DatagramHandler handler) {
    if (handler_)
      return sdk::complete_later(executor_, std::move(handler), boost::asio::error::in_progress, sdk::Datagram());
    if (!queue_.empty()) {
      sdk::Datagram next = std::move(queue_.front());
      queue_.pop_front();
      bytes_ -= queue_charge(next.size());
      return sdk::complete_later(executor_, std::move(handler), sdk::error_code(), std::move(next));
    }
    if (end_) return sdk::complete_later(executor_, std::move(handler), end_, sdk::Datagram());
    sdk::store_handler(handler_, std::move(handler));
  }

  /// Nothing more will arrive, because of `reason` (the first end counts).
  void end(sdk::error_code reason) {
    if (end_) return;
    end_ = reason;
    if (queue_.empty()) sdk::complete_if_pending(executor_, handler_, reason, sdk::Datagram());
  }

  /// Datagrams waiting, and the bytes they are charged.
  std::size_t size() const { return queue_.size(); }
  std::size_t bytes() const { return bytes_; }
  /// Half of either bound is taken: a reader that can wait (a stream) should.
  bool half_full() const { return 2 * queue_.size() >= max_datagrams_ || 2 * bytes_ >= max_bytes_; }

  /// The channel closed: what waits is dropped, a pending receive and every
  /// later one completes with operation_aborted.
  void abort() {
    queue_.clear();
    bytes_ = 0;
    end_ = boost::asio::error::operation_aborted;
    sdk::complete_if_pending(executor_, handler_, end_, sdk::Datagram());
  }

 private:
  boost::asio::any_io_executor executor_;
  std::size_t max_datagrams_;
  std::size_t max_bytes_;
  std::deque<sdk::Datagram> queue_;
  std::size_t bytes_ = 0;
  sdk::DatagramHandler handler_;
  sdk::error_code end_;
};

}  // namespace warren::core::datagram

#pragma once
// A channel of datagrams between edge and connector, whatever carries it: a
// UDP tunnel's datagrams travel over one of these (issue 13). Two kinds:
//  - native: the connection's own datagrams (QUIC DATAGRAM frames, RFC
//    9221), for a connection whose max_datagram_size() is above 0;
//  - stream: one ByteStream of its own, each datagram as a 2-byte
//    big-endian length and its bytes (datagram_framing.hpp), for a
//    transport without datagrams (the HTTP/2 fallback).
// Either way the semantics are a datagram's: send() never waits and drops
// (counted) rather than buffering without bound; a received datagram nobody
// waits for waits in a bounded queue, past which it is dropped (counted).
// The stream channel stops reading its stream while that queue is half
// full, so a burst waits in the stream's own window and its sender's
// bounded queue rather than being dropped here.
//
// Async contract as sdk/transport.hpp: completions are posted, never run
// inside the call that started them; one thread, the loop's; at most one
// receive pending; each handler completes exactly once.

#include <warren/sdk/datagram.hpp>
#include <warren/sdk/transport.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace warren::core::datagram {

/// What a channel did, since it was made.
struct ChannelCounters {
  std::uint64_t sent = 0;              ///< datagrams send() accepted
  std::uint64_t received = 0;          ///< datagrams that arrived, delivered or not
  std::uint64_t dropped_on_send = 0;   ///< send() refused: too large, queue full, or closed
  std::uint64_t dropped_on_receive = 0;  ///< arrived while the receive queue was full
  /// Lost inside the carrier, after send() took them or before they reached
  /// the channel. Native: the connection's own datagram drops
  /// (ConnectionStats::datagrams_dropped: its receive queue full, a queued
  /// datagram that no longer fit the path), less send()'s refusals, which
  /// dropped_on_send counts already. Stream: frames still queued when the
  /// stream failed or the channel closed.
  std::uint64_t dropped_in_transport = 0;
};

class DatagramChannel {
 public:
  /// Destroying a channel closes it (close()).
  virtual ~DatagramChannel() = default;

  /// The largest payload send() takes now, in bytes. Native: the
  /// connection's max_datagram_size() (it may change as the path's packet
  /// size does); stream: the framing's maximum (65,527 by default).
  virtual std::size_t max_datagram_size() const = 0;

  /// Queues one datagram for the peer without waiting. False, dropping it
  /// (counted in dropped_on_send), when it is larger than
  /// max_datagram_size(), the send queue is full, or the channel is closed
  /// or its carrier ended. True does not mean it will arrive.
  virtual bool send(std::span<const std::byte> payload) = 0;

  /// Waits for the next datagram from the peer. Errors: the carrier's end
  /// (native: the connection's reason, as async_accept_stream; stream:
  /// boost::asio::error::eof when the peer closed its side,
  /// sdk::errc::stream_reset, or sdk::errc::protocol_error for a malformed
  /// length, which ends that stream only); operation_aborted after close().
  /// Datagrams that arrived before the end are delivered first.
  template <typename Token>
  auto async_receive(Token&& token) {
    return boost::asio::async_initiate<Token, void(sdk::error_code, sdk::Datagram)>(
        [this](auto handler) { async_receive_impl(std::move(handler)); }, token);
  }

  /// Stops the channel at once: a pending receive completes with
  /// operation_aborted, queued datagrams are dropped, later sends fail.
  /// Native: the connection lives on. Stream: the stream is aborted.
  /// Idempotent.
  virtual void close() = 0;

  virtual ChannelCounters counters() const = 0;

 private:
  virtual void async_receive_impl(sdk::DatagramHandler handler) = 0;
};

using DatagramChannelPtr = std::unique_ptr<DatagramChannel>;

/// Bounds of the stream channel's queues (datagram semantics: past them,
/// datagrams are dropped and counted, never buffered).
struct StreamChannelLimits {
  /// Largest datagram carried; a received length above it is malformed.
  /// 65,527: the largest UDP payload over IPv6 without jumbograms
  /// (RFC 8200 §5, 65,535 less the 8-byte UDP header), above IPv4's 65,507.
  std::size_t max_datagram = 65527;
  /// Datagrams waiting to be written while the stream is backpressured.
  /// 256 datagrams / 256 KiB: at 100 Mbit/s, about 20 ms of queue; a
  /// datagram later than that is worth less to a game or a call than the
  /// next one, and the stream's own buffers hold more on top.
  std::size_t send_queue_datagrams = 256;
  std::size_t send_queue_bytes = 256 * 1024;
  /// Datagrams received while no receive is pending, bounded in count and
  /// in bytes charged as receive_queue_charge() (payload and bookkeeping).
  /// Reading pauses at half of either bound: one 64 KiB read of the
  /// smallest frames (a flow frame's 2-byte length and 20-byte header) is
  /// ~3,000 datagrams, 250 KiB charged, so what a read brings always fits.
  std::size_t receive_queue_datagrams = 16384;
  std::size_t receive_queue_bytes = 2 * 1024 * 1024;
};

/// A channel over `connection`'s datagrams. The connection must outlive the
/// channel and have max_datagram_size() > 0; at most one native channel per
/// connection (it keeps the connection's one pending receive).
DatagramChannelPtr make_native_channel(sdk::Connection& connection);

/// A channel over `stream`, which it owns: a stream of its own, carrying
/// nothing else. Starts reading at once.
DatagramChannelPtr make_stream_channel(sdk::ByteStreamPtr stream, StreamChannelLimits limits = {});

}  // namespace warren::core::datagram

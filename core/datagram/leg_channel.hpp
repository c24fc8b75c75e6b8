#pragma once
// A udp tunnel's datagram channel on one leg, both sides: the connection's
// native datagrams (QUIC DATAGRAM frames) for every datagram that fits them,
// and the leg's udp data stream (length-prefixed records, see
// core/protocol/control.capnp StreamHeader) for the ones that do not (a path
// whose packets are still small, before PMTUD grows them) and for all of
// them on a transport without datagrams (HTTP/2). Datagrams are unordered
// anyway, so choosing per datagram reorders nothing a UDP service relies on.
//
// Either part may be missing: no native part on HTTP/2; no stream part on
// the connector until the edge's udp stream arrives (attach_stream). Only a
// datagram neither part can take is dropped (counted in dropped_on_send).
//
// The channel ends (its receive fails) when its native part's connection
// ends, or when its stream part ends and there is no native part; a stream
// part that ends beside a live native part is let go, and datagrams too
// large for the native part are dropped from then on.

#include "core/datagram/datagram_channel.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <memory>

namespace warren::core::datagram {

class LegChannel final : public DatagramChannel {
 public:
  /// `native` (make_native_channel) and `stream` (make_stream_channel) may
  /// each be null; completions run on `executor` (the leg's connection's).
  /// Starts receiving from both at once.
  LegChannel(boost::asio::any_io_executor executor, DatagramChannelPtr native, DatagramChannelPtr stream);
  ~LegChannel() override;
  LegChannel(const LegChannel&) = delete;
  LegChannel& operator=(const LegChannel&) = delete;

  /// Adds the stream part (connector: the edge's udp stream arrived). A
  /// second stream replaces the first, which is closed.
  void attach_stream(DatagramChannelPtr stream);
  bool has_native() const;
  bool has_stream() const;

  /// The larger of the parts' maxima; 0 with neither.
  std::size_t max_datagram_size() const override;
  /// Native when it fits the native part now, else the stream part.
  bool send(std::span<const std::byte> payload) override;
  void close() override;
  /// Both parts' counts added up (a replaced or ended stream part's too),
  /// plus datagrams neither could take and arrivals past the receive queue.
  ChannelCounters counters() const override;

 private:
  void async_receive_impl(sdk::DatagramHandler handler) override;

  class State;
  std::shared_ptr<State> state_;
};

}  // namespace warren::core::datagram

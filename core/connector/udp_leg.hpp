#pragma once
// One leg connection's part in a udp tunnel, at the connector: its
// LegChannel (the connection's native datagrams when it has them, the
// edge's udp data stream once it arrives), read frame by frame into the
// connector's UdpFlows under an origin of its own. The ConnectorLeg that
// owns it says when the leg drains (its flows end, shutdown, and the udp
// stream goes, so it does not hold up the drain) or is lost (leg_lost).
//
// A drain's close frames reach the edge: the udp stream goes once the
// channel has handed them to it, and ends its sending side first
// (udp_stream_part.hpp), so HTTP/2 delivers them before END_STREAM.
// Without native datagrams (HTTP/2) the channel is the udp stream alone:
// when that stream ends while the leg lives (the edge reset it), the leg's
// flows end (leg_lost, as the edge ends its half) and the next udp stream
// the edge opens on the leg makes a new channel under the same origin.

#include "core/connector/udp_flows.hpp"
#include "core/connector/udp_stream_part.hpp"
#include "core/datagram/leg_channel.hpp"

#include <warren/sdk/transport.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace warren::core {

class UdpLeg : public std::enable_shared_from_this<UdpLeg> {
 public:
  /// `connection` must outlive this object (its owner, the ConnectorLeg,
  /// destroys it first); `listener` is the leg's Registered.public_address.
  /// Make with std::make_shared, then start().
  UdpLeg(std::weak_ptr<UdpFlows> flows, sdk::Connection& connection, std::string listener, unsigned leg);
  ~UdpLeg();
  UdpLeg(const UdpLeg&) = delete;
  UdpLeg& operator=(const UdpLeg&) = delete;

  /// Makes the channel (a native part when connection.max_datagram_size()
  /// > 0 now), attaches it to the flows and starts reading.
  void start();
  /// The edge's udp data stream arrived: the channel's stream part from now
  /// on (a second replaces the first, or makes the channel anew when the
  /// first had ended it). `read_ahead`: bytes read past its header. `ended`
  /// runs once, posted, when the stream is let go (replaced, ended,
  /// drained, lost), or at once (posted) after drain() or lost().
  void attach_stream(sdk::ByteStreamPtr stream, std::vector<std::uint8_t> read_ahead, std::function<void()> ended);
  /// The leg unregistered: its flows end (shutdown, close frames going out
  /// first) and the channel closes once the udp stream took them. Idempotent.
  void drain();
  /// The leg's connection ended or was closed: its flows end (leg_lost) and
  /// the channel goes at once (a drain's wait for its stream too). Idempotent.
  void lost();

  /// This leg connection's FlowKey::origin in the flows.
  std::uint32_t origin() const { return origin_; }

 private:
  void read();
  /// The channel ended while the leg lives (its only part, the udp stream, ended).
  void channel_ended();
  void close_channel();

  std::weak_ptr<UdpFlows> flows_;
  sdk::Connection& connection_;
  std::string listener_;
  unsigned leg_;
  std::uint32_t origin_ = 0;
  std::unique_ptr<datagram::LegChannel> channel_;
  std::shared_ptr<UdpStreamPart::Writes> writes_;  ///< of the udp stream attached last
  bool reading_ = false;
  bool ended_ = false;     ///< the channel ended; the next udp stream makes it anew
  bool finished_ = false;
};

}  // namespace warren::core

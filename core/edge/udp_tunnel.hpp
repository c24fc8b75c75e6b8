#pragma once
// A udp tunnel at the edge: the Asio shell around its FlowTable (core/udp).
// Its UdpPublicPort feeds the table the public clients' datagrams; each leg
// of the tunnel brings a datagram channel (a LegChannel: the connection's
// QUIC datagrams, and the leg's udp stream) that carries flow frames
// (core/udp/flow_frame.hpp) to and from the connector. One steady_timer runs
// the table's deadlines. The decisions are the table's (when a flow begins
// and ends) and UdpLegChoice's (which leg carries a new flow); this file
// only carries them out.
//
// Legs: a new flow goes on the non-draining leg with the fewest flows and
// stays there. When a leg ends (remove_leg) or its channel ends, its flows
// end (leg_lost). A draining leg takes no new flow; once its last flow ends
// its channel is released, which closes its udp stream, so the stream never
// holds up the leg's drain. No leg: a new client's datagram is dropped
// (no_leg). A leg whose channel ended while the leg lives (over HTTP/2, its
// udp stream was reset) gets a new stream through the stream opener when
// the tunnel has flows or a new client comes (UdpLegChoice says when).
//
// A close frame from the connector ends its flow with the reason the frame
// names (backend_refused, idle …; peer_closed when it names none this edge
// knows), and no close frame goes back.
//
// Drops: every drop_check_interval a second timer reads the tunnel's drop
// counts, and a reason that grew is logged as a warning with what to do
// (udp_tunnel_drop_log.hpp), at most once per reason per 10 s.

#include "core/datagram/datagram_channel.hpp"
#include "core/edge/udp_leg_choice.hpp"
#include "core/edge/udp_public_port.hpp"
#include "core/edge/udp_tunnel_stats.hpp"
#include "core/log/drop_warnings.hpp"
#include "core/udp/flow_table.hpp"

#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace warren::core {

class UdpTunnel : public std::enable_shared_from_this<UdpTunnel> {
 public:
  using LegId = UdpLegChoice::LegId;

  /// Binds the public port at `at` and starts receiving on it. Throws
  /// boost::system::system_error (address_in_use …) when it cannot bind, and
  /// std::invalid_argument for settings FlowTable refuses.
  static std::shared_ptr<UdpTunnel> open(boost::asio::any_io_executor executor, std::string tunnel_id,
                                         const udp::FlowSettings& settings, const boost::asio::ip::udp::endpoint& at);
  ~UdpTunnel();

  /// The leg's channel is up: it may carry flows from now on. The tunnel
  /// owns the channel until the leg is removed or released after a drain.
  void add_leg(LegId leg, datagram::DatagramChannelPtr channel);
  /// The leg drains: no new flow; its channel goes when its last flow ends.
  void drain_leg(LegId leg);
  /// The leg ended: its flows end (leg_lost) and its channel is closed.
  void remove_leg(LegId leg);
  /// Ends every flow (shutdown; a close frame on each one's leg), closes the
  /// channels and the public port. Idempotent; nothing runs afterwards.
  void close();
  /// New flow limits (a config reload), live flows included: see
  /// FlowTable::update_settings. Throws std::invalid_argument, changing
  /// nothing, for settings FlowTable refuses.
  void update_settings(const udp::FlowSettings& settings);
  const udp::FlowSettings& settings() const { return table_.settings(); }
  /// Asked to open a new udp stream on a leg that lives without a channel;
  /// the stream's channel comes back through add_leg. Unset: none is asked.
  using StreamOpener = std::function<void(LegId)>;
  void set_stream_opener(StreamOpener opener) { open_stream_ = std::move(opener); }

  boost::asio::ip::udp::endpoint local_endpoint() const { return local_; }
  const std::string& id() const { return id_; }
  UdpTunnelStats stats() const;
  std::size_t flows() const { return table_.size(); }
  /// Flows placed on `leg` and live; 0 for a leg the tunnel does not hold.
  std::size_t flows_on(LegId leg) const { return choice_.flows_on(leg); }
  /// Legs whose channel is up and that take new flows (not draining).
  std::size_t legs_taking_flows() const { return choice_.taking(); }
  /// Whether the tunnel holds `leg`'s channel (added, not yet removed or released).
  bool holds_leg(LegId leg) const { return legs_.contains(leg); }
  /// Logs the drops counted since the last lines (see above); the timer
  /// calls it, and close() once more so the last drops are said too.
  void log_drops(sdk::TimePoint now);

 private:
  UdpTunnel(boost::asio::any_io_executor executor, std::string tunnel_id, const udp::FlowSettings& settings);

  void on_public_datagram(const boost::asio::ip::udp::endpoint& client, sdk::Datagram payload);
  void receive_from(LegId leg);
  void on_frame(LegId leg, std::span<const std::byte> bytes);
  /// The leg's channel ended while the leg lived: it carries nothing more.
  void channel_ended(LegId leg, sdk::error_code why);
  /// Ends the flows on `leg` (leg_lost) and forgets it.
  void drop_leg(LegId leg);
  /// Carries out the table's actions, then arms the timer.
  void pump(sdk::TimePoint now);
  void forward_request(sdk::TimePoint now, udp::ForwardRequest& request);
  void flow_closed(const udp::CloseFlow& close);
  /// Lets a draining leg's channel go once it carries no flow.
  void release_if_drained(LegId leg);
  /// Asks the opener for the streams UdpLegChoice::streams_to_open names.
  void open_streams(sdk::TimePoint now, bool wanted);
  /// True when the leg's channel took `frame`.
  bool send_frame(LegId leg, const std::vector<std::byte>& frame, bool count_failure);
  void check_drops_later();

  std::string id_;
  udp::FlowTable table_;
  UdpLegChoice choice_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<UdpPublicPort> port_;
  boost::asio::ip::udp::endpoint local_;
  std::map<LegId, datagram::DatagramChannelPtr> legs_;
  std::map<udp::FlowId, LegId> flow_leg_;
  std::vector<std::byte> frame_;  ///< reused for every frame encoded
  UdpTunnelStats own_;            ///< the drops only this shell sees
  StreamOpener open_stream_;
  bool closed_ = false;
  boost::asio::steady_timer drop_timer_;
  DropWarnings drop_warnings_;
};

}  // namespace warren::core

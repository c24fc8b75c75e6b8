#pragma once
// One leg's live connection at the connector: its control stream and the
// data streams the edge opens on it, each delivered to the backend. A
// ConnectorLeg keeps track of its own streams, so when its connection ends they end
// with it at once — a backend splice does not wait for an operation on the
// dead stream to notice.
//
// On a udp tunnel's leg (Registered.kind udp) it also carries flow frames: a
// UdpLeg (udp_leg.hpp) with the connection's native datagrams and the edge's
// udp data stream, which counts as one data stream like any other (the
// UnregisterAck arithmetic agrees with the edge's) and goes when the leg
// drains, so it never holds the drain up.

#include "core/connector/udp_flows.hpp"
#include "core/connector/udp_leg.hpp"
#include "core/protocol/messages.hpp"
#include "core/control/control_channel.hpp"
#include "core/splice/stream_splice.hpp"

#include <warren/sdk/backend.hpp>
#include <warren/sdk/transport.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>

namespace warren::core {

/// What a leg reports to the shell. None runs after close().
struct LegEvents {
  std::function<void(const protocol::Registered&)> registered;
  std::function<void(const protocol::Rejected&)> rejected;
  /// `round_trip`: from sending the Heartbeat to reading its ack, on this side's clock.
  std::function<void(std::uint64_t sequence, sdk::Duration round_trip)> heartbeat_ack;
  std::function<void(sdk::error_code)> lost;
  /// The edge answered Unregister; it opened `streams_opened` streams in all.
  std::function<void(std::uint64_t streams_opened)> unregister_acked;
  /// A data stream arrived / it ended (each arrival is matched by one end).
  std::function<void()> stream_opened;
  std::function<void()> stream_closed;
  /// The backend took (`ec` clear) or refused a stream from `client`; the
  /// shell says so, summarising a backend that stays down.
  std::function<void(const std::string& client, sdk::error_code ec)> backend_result;
};

/// The backend a new stream goes to: the one current when it arrives (a
/// reload may replace it). The pointer shares ownership of the plugin set
/// that made it, so a stream keeps its backend, and that plugin's library,
/// until it ends.
using BackendSource = std::function<std::shared_ptr<sdk::Backend>()>;

class ConnectorLeg : public std::enable_shared_from_this<ConnectorLeg> {
 public:
  /// `owner` keeps what `connection` needs alive (the transport plugin that
  /// made it, and its library) for as long as the leg lives.
  ConnectorLeg(unsigned index, sdk::ConnectionPtr connection, std::shared_ptr<const void> owner, BackendSource backend,
               SpliceTracker& splices, LegEvents events);

  /// Opens the control stream and sends `request`; reports registered or rejected.
  void register_with(const protocol::RegisterConnection& request);
  void send_heartbeat(std::uint64_t sequence);
  void send_unregister(sdk::Duration grace);
  /// From now on only the streams the edge opened before it got our
  /// Unregister are served (UnregisterAck counts them); others are reset.
  /// A udp tunnel's flows on this leg end (shutdown) and its udp stream goes.
  void stop_accepting_streams();
  /// Closes the connection and resets its streams; no callback runs after this.
  void close(sdk::error_code reason);
  /// Data streams of this connection that are still open.
  std::size_t open_streams() const { return open_; }
  std::shared_ptr<ByteCounter> bytes_;  ///< null: not counted per leg
  /// Every splice of this connection adds its bytes to `bytes` as it writes
  /// them (the leg's counter over all its connections, for [admin]).
  void count_bytes(std::shared_ptr<ByteCounter> bytes) { bytes_ = std::move(bytes); }
  /// The connector's flows, which a udp tunnel's leg carries frames for
  /// (set before register_with; the shell owns them).
  void carry_udp(std::weak_ptr<UdpFlows> flows) { udp_flows_ = std::move(flows); }
  /// This connection's FlowKey::origin in the flows, once its udp tunnel's
  /// leg started; nullopt on a tcp tunnel or before registration.
  std::optional<std::uint32_t> udp_origin() const {
    return udp_ ? std::optional<std::uint32_t>(udp_->origin()) : std::nullopt;
  }

 private:
  /// The two ends of one spliced stream, reset together when the leg ends.
  struct Spliced {
    sdk::ByteStream* tunnel = nullptr;
    sdk::ByteStream* local = nullptr;
  };

  void read_control();
  void on_control(sdk::error_code ec, protocol::ControlMessage message);
  void accept_streams();
  void deliver(sdk::ByteStreamPtr stream);
  /// A udp tunnel's leg registered: its UdpLeg starts.
  void start_udp(const protocol::Registered& registered);
  /// The edge's udp data stream arrived: the UdpLeg's stream part (reset on a tcp tunnel).
  void attach_udp_stream(sdk::ByteStreamPtr stream, std::vector<std::uint8_t> rest);
  void connect_backend(sdk::ByteStreamPtr stream, protocol::StreamHeader header, std::vector<std::uint8_t> rest);
  /// Writes the StreamReply (when the edge reads them), then splices. `backend`
  /// made `local`: it lives as long as the stream.
  void accept(sdk::ByteStreamPtr stream, sdk::ByteStreamPtr local, std::vector<std::uint8_t> rest,
              std::shared_ptr<sdk::Backend> backend);
  /// Tells the edge the backend refused `stream` (or resets it for an older edge).
  void refuse(sdk::ByteStreamPtr stream, sdk::error_code why);
  void start_splice(sdk::ByteStreamPtr stream, sdk::ByteStreamPtr local, std::vector<std::uint8_t> rest,
                    std::shared_ptr<sdk::Backend> backend);
  void stream_ended();
  void report_lost(sdk::error_code ec);
  void reset_streams();

  unsigned index_;
  std::shared_ptr<const void> owner_;  ///< declared before connection_: outlives it
  sdk::ConnectionPtr connection_;
  BackendSource backend_;
  SpliceTracker& splices_;
  LegEvents events_;
  std::shared_ptr<ControlChannel> control_;
  bool registered_ = false;
  bool stream_replies_ = false;  ///< the edge reads a StreamReply first on every data stream
  bool draining_ = false;
  std::optional<std::uint64_t> edge_opened_;  ///< from UnregisterAck
  std::uint64_t arrived_ = 0;
  std::size_t open_ = 0;
  std::uint64_t next_splice_ = 0;
  std::map<std::uint64_t, Spliced> spliced_;
  std::weak_ptr<UdpFlows> udp_flows_;
  std::shared_ptr<UdpLeg> udp_;  ///< declared after connection_: goes first (its channel reads the connection)
  bool closed_ = false;
};

}  // namespace warren::core

#pragma once
// One connector connection at the edge: the Asio shell around an
// EdgeLegEngine. It reads the control stream (registration, heartbeats,
// unregister), opens the data streams the edge forwards on it, and carries
// out the engine's decisions with one timer.

#include "core/edge/edge_admin.hpp"
#include "core/edge/edge_leg_engine.hpp"
#include "core/edge/tunnel_registry.hpp"
#include "core/control/control_channel.hpp"

#include <warren/sdk/transport.hpp>

#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <memory>

namespace warren::core {

class EdgeServer;

class EdgeLeg : public std::enable_shared_from_this<EdgeLeg> {
 public:
  EdgeLeg(EdgeServer& server, LegId id, sdk::ConnectionPtr connection);

  void start();
  /// Closes the connection telling the peer `reason`; the registry forgets the leg.
  void end(sdk::error_code reason);
  /// Opens a data stream and hands it to `ready` (or an error: the leg died
  /// or drains, stream limit). The caller writes the StreamHeader first, in
  /// the same write as the client bytes that wait (ReplayCore does): one
  /// packet instead of two, and no loop pass between them. It counts as
  /// opened for the Unregister ack from here.
  void open_data_stream(sdk::StreamHandler ready);
  /// The edge drains this leg (a reload removed its tunnel or listener): no
  /// new streams; the connection closes once its streams end or `grace`
  /// passes (EdgeLegEngine::handle_edge_drain).
  void drain(sdk::Duration grace);

  LegId id() const { return id_; }
  /// The connector answers each data stream with a StreamReply (both sides agreed at registration).
  bool stream_replies() const { return stream_replies_; }
  const std::string& remote() const { return remote_; }
  /// For logs: "tunnel 'web' leg 0 (from ADDRESS)" once registered, the
  /// connector's address alone before. The edge's LegId is not the leg
  /// number a connector knows.
  std::string name() const;
  /// What /status shows of it once registered (edge_admin.cpp); nullopt before, or once ended.
  std::optional<EdgeLegStatus> status() const;
  const std::string& tunnel_id() const { return tunnel_id_; }
  /// A udp tunnel's leg: opens its udp data stream (header kind udp,
  /// listener `listener`, no StreamReply) and hands the leg's channel, QUIC
  /// datagrams beside that stream, to the server (edge_udp.cpp). At
  /// registration, and again when the last one ended while the leg lives.
  void open_udp_stream(const std::string& listener);

 private:
  void on_register(sdk::error_code ec, protocol::ControlMessage message);
  void reject(const protocol::Rejected& rejected);
  void read_next();
  void on_message(sdk::error_code ec, protocol::ControlMessage message);
  void log_malformed(sdk::error_code ec);
  /// Runs the engine's actions and re-arms the timer; call after every input.
  void pump();

  EdgeServer& server_;
  LegId id_;
  sdk::ConnectionPtr connection_;
  std::string remote_;
  std::shared_ptr<ControlChannel> control_;
  EdgeLegEngine engine_;
  boost::asio::steady_timer timer_;
  std::string tunnel_id_;
  unsigned conn_index_ = 0;
  bool stream_replies_ = false;
  bool ended_ = false;
  std::optional<std::chrono::system_clock::time_point> registered_at_;
};

}  // namespace warren::core

#pragma once
// The edge: accepts connector connections on its transports, admits them
// through the TunnelRegistry, opens a public TCP listener per tunnel, and
// forwards every public connection as a data stream on a live leg.

#include "core/admin/admin_server.hpp"
#include "core/config/edge_config.hpp"
#include "core/edge/edge_admin.hpp"
#include "core/edge/edge_metrics.hpp"
#include "core/edge/edge_reload.hpp"
#include "core/edge/edge_reload_plan.hpp"
#include "core/edge/public_admission.hpp"
#include "core/edge/public_listener.hpp"
#include "core/edge/registration_admission.hpp"
#include "core/edge/replayable_stream.hpp"
#include "core/edge/tunnel_registry.hpp"
#include "core/edge/udp_tunnel.hpp"
#include "core/plugin/plugin_set.hpp"
#include "core/splice/stream_splice.hpp"
#include "core/tls/edge_identity.hpp"
#include "core/tls/secure_random.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <memory>
#include <ostream>

namespace warren::core {

class EdgeLeg;

class EdgeServer {
 public:
  /// `announce` receives lines for stdout: listen addresses, the pin, tunnels.
  /// The server keeps its own copy of `config`; `plugins` must outlive it.
  EdgeServer(boost::asio::io_context& io, const EdgeConfig& config, EdgePlugins& plugins, EdgeIdentity identity,
             std::function<void(const std::string&)> announce);
  ~EdgeServer();

  /// Opens every listener. Throws std::runtime_error with a sentence when one
  /// cannot be opened (address in use, bad certificate).
  void start();
  /// Stops accepting and closes every connection.
  void stop();

  /// Applies `fresh`, a config read and validated in full (SIGHUP;
  /// edge_reload_plan.hpp says what changes and what needs a restart):
  /// tunnels and listeners added, removed or changed, [edge] settings, and
  /// the certificate and key (re-read every time, given to every listener
  /// for new handshakes). `plugins` were made from `fresh`; the server keeps
  /// them while a listener made from them lives. Logs one line per change;
  /// a part that cannot be applied keeps its old value and is logged and
  /// listed in the outcome.
  ReloadOutcome reload(const EdgeConfig& fresh, std::unique_ptr<EdgePlugins> plugins);

  const EdgeMetrics& metrics() const { return metrics_; }
  /// What /status shows: listeners, tunnels and their legs (edge_admin.cpp).
  EdgeStatus status() const;
  /// Called after a leg registered or ended and after quick tunnels expired,
  /// to read metrics() (the systemd STATUS= line, core/cli/edge_command.cpp).
  std::function<void()> on_legs_changed;

 private:
  friend class EdgeLeg;
  friend class PublicListener;

  void accept_next(sdk::Listener* listener);
  /// Listens as `listen` says; throws std::runtime_error with a sentence.
  sdk::ListenerPtr open_listener(const ListenSection& listen, sdk::Transport& transport);
  /// Serves the admin endpoints when configured (edge_admin.cpp); throws a sentence when it cannot bind.
  void start_admin();
  void reload_certificate(ReloadOutcome& outcome);
  // The steps of reload(), in its order.
  void reload_settings(const EdgeConfig& fresh, const EdgeReloadPlan& plan);
  void remove_tunnel(const std::string& id);
  void add_tunnel(const TunnelEntry& tunnel, ReloadOutcome& outcome);
  /// False when the tunnel keeps its port until a restart (logged).
  bool move_public_port(const TunnelChange& change, ReloadOutcome& outcome);
  void remove_listener(std::size_t index);
  bool add_listener(const ListenSection& listen, sdk::Transport& transport, ReloadOutcome& outcome);
  /// Drains `legs` (EdgeLeg::drain) for [edge] grace_period.
  void drain_legs(const std::vector<LegId>& legs);
  /// Frees retired listeners none of whose connections is left.
  void free_retired_listeners();
  void open_fixed_public_ports();
  /// [edge] public_host as an address; throws std::runtime_error with a sentence.
  boost::asio::ip::address resolve_public_host() const;
  /// Binds a [[tunnels]] public_port, TCP or UDP as `tunnel` says; throws
  /// std::runtime_error with a sentence.
  void open_fixed_public_port(const TunnelEntry& tunnel, std::uint16_t port);
  /// Binds, listens and accepts; throws boost::system::system_error.
  void open_public_listener(const std::string& tunnel_id, const boost::asio::ip::tcp::endpoint& at);

  // udp tunnels (edge_udp.cpp): their public UDP ports and flow tables.
  /// The [[tunnels]] entry of a kind = "udp" tunnel; null for a tcp or quick one.
  const TunnelEntry* udp_entry(const std::string& tunnel_id) const;
  /// Binds the tunnel's public UDP port and starts its UdpTunnel; throws
  /// boost::system::system_error. Logs "tunnel 'ID' (udp) public at HOST:PORT".
  void open_udp_port(const TunnelEntry& entry, std::uint16_t port);
  /// The port the tunnel's public listener or UDP port is open on; nullopt when none is.
  std::optional<std::uint16_t> public_port_of(const std::string& tunnel_id) const;
  /// Closes the tunnel's public port, TCP or UDP (a udp tunnel's flows end: shutdown); false if none was open.
  bool close_public_port(const std::string& tunnel_id);
  /// A leg of a udp tunnel has its channel (EdgeLeg::open_udp_stream);
  /// false when the tunnel or the leg is gone meanwhile (the channel goes).
  bool udp_leg_ready(const std::string& tunnel_id, LegId leg, datagram::DatagramChannelPtr channel);
  void udp_leg_draining(LegId leg);
  /// Every udp tunnel's stats, gone ones' counters included, for /metrics.
  std::map<std::string, UdpTunnelStats> udp_stats() const;
  /// The warren_udp_* families; empty while the edge never had a udp tunnel.
  std::string render_udp_metrics() const;
  // Called by sessions and listeners.
  /// Throttles (RegistrationAdmission), then asks the registry. Refusals
  /// for wrong credentials and throttling are logged here, one line per
  /// source per interval; the leg logs other refusals.
  std::variant<Admission, protocol::Rejected> admit(LegId leg, const SourceKey& source,
                                                    const protocol::RegisterConnection& request);
  void log_source(const SourceKey& source, const SourceLogDecision& line, const std::string& latest);
  void leg_gone(LegId leg);
  void leg_draining(LegId leg);
  void replica_left(const std::optional<ReplicaLeft>& left, const char* how);
  std::string render_replicas() const;
  void forward(const std::string& tunnel_id, AcceptedClient accepted);
  /// The encoded StreamHeader of one public connection, shared by its attempts.
  using HeaderBytes = std::shared_ptr<const std::vector<std::uint8_t>>;
  /// Opens a data stream on `leg`; the Dispatch carries `header` to write
  /// first; `done` gets the leg either way.
  void open_on_leg(LegId leg, const HeaderBytes& header, DispatchHandler done);
  /// Opens one on another leg of `tunnel_id` (see TunnelRegistry::redispatch_leg).
  void redispatch(const std::string& tunnel_id, const HeaderBytes& header, const std::set<LegId>& tried,
                  std::set<std::string>& connectors_tried, DispatchHandler done);
  void refuse(boost::asio::ip::tcp::socket& client, const std::string& tunnel_id, const SourceKey& source,
              const AdmissionDecision& decision);
  void schedule_expiry();

  boost::asio::io_context& io_;
  /// What runs: the start config, then each reload's, except for the keys
  /// that need a restart (they keep their start values).
  EdgeConfig config_;
  EdgePlugins& plugins_;
  /// Plugin sets of reloads whose listeners run: they own those transports.
  std::vector<std::unique_ptr<EdgePlugins>> reload_plugins_;
  EdgeIdentity identity_;
  std::function<void(const std::string&)> announce_;
  SecureRandom random_;
  TunnelRegistry registry_;
  EdgeMetrics metrics_;
  std::vector<sdk::ListenerPtr> listeners_;  ///< accepting; listening_[i] says what listeners_[i] is
  std::vector<ListenSection> listening_;
  /// Removed by a reload: no longer accepting, kept while connections they
  /// accepted live (a QUIC listener's socket carries them).
  std::vector<sdk::ListenerPtr> retired_listeners_;
  std::vector<sdk::ListenerPtr> freed_listeners_;  ///< retired ones no connection uses, freed next loop pass
  std::map<LegId, const sdk::Listener*> leg_listener_;  ///< which listener accepted each leg
  std::unique_ptr<AdminServer> admin_;
  std::map<LegId, std::shared_ptr<EdgeLeg>> legs_;
  std::map<std::string, std::shared_ptr<PublicListener>> public_listeners_;
  /// A udp tunnel's public port and flows, in place of a PublicListener.
  std::map<std::string, std::shared_ptr<UdpTunnel>> udp_tunnels_;
  /// Counters of udp tunnels closed (removed by a reload), so /metrics never goes back.
  std::map<std::string, UdpTunnelStats> udp_gone_;
  boost::asio::steady_timer expiry_timer_;
  PublicAdmission admission_;
  RegistrationAdmission registration_admission_;
  std::shared_ptr<BufferBudget> buffer_budget_;
  /// Every forwarded public connection. When a leg ends, those it carries
  /// for good end with it, at once, even those whose public client reads
  /// nothing (their pending operations are on the public socket, not on the
  /// dead tunnel stream); those it had not answered yet move to another leg.
  struct Forwarded {
    std::weak_ptr<ReplayCore> core;
    std::shared_ptr<SpliceTracker> splice;
  };
  std::map<std::uint64_t, Forwarded> forwarded_;
  std::uint64_t next_forwarded_ = 0;
  LegId next_leg_ = 1;
  bool stopped_ = false;
  std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();  ///< for /status
};

}  // namespace warren::core

#pragma once
// The edge: accepts connector connections on its transports, admits them
// through the TunnelRegistry, opens a public TCP listener per tunnel, and
// forwards every public connection as a data stream on a live leg.

#include "core/admin/admin_server.hpp"
#include "core/config/edge_config.hpp"
#include "core/edge/edge_admin.hpp"
#include "core/edge/edge_metrics.hpp"
#include "core/edge/edge_reload.hpp"
#include "core/edge/public_admission.hpp"
#include "core/edge/public_listener.hpp"
#include "core/edge/registration_admission.hpp"
#include "core/edge/replayable_stream.hpp"
#include "core/edge/tunnel_registry.hpp"
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
  EdgeServer(boost::asio::io_context& io, const EdgeConfig& config, EdgePlugins& plugins, EdgeIdentity identity,
             std::function<void(const std::string&)> announce);
  ~EdgeServer();

  /// Opens every listener. Throws std::runtime_error with a sentence when one
  /// cannot be opened (address in use, bad certificate).
  void start();
  /// Stops accepting and closes every connection.
  void stop();

  /// Re-reads what a running edge may change (SIGHUP; edge_reload.hpp):
  /// today the certificate and key, given to every listener for new
  /// handshakes. A part that cannot be read keeps its old value and is
  /// logged and listed in the outcome.
  ReloadOutcome reload();

  const EdgeMetrics& metrics() const { return metrics_; }
  /// What /status shows: listeners, tunnels and their legs (edge_admin.cpp).
  EdgeStatus status() const;
  /// Called after a leg registered or ended and after quick tunnels expired,
  /// to read metrics() (the systemd STATUS= line, core/cli/edge_command.cpp).
  std::function<void()> on_legs_changed;

 private:
  friend class EdgeLeg;
  friend class PublicListener;

  void accept_next(std::size_t listener);
  /// Serves the admin endpoints when configured (edge_admin.cpp); throws a sentence when it cannot bind.
  void start_admin();
  void reload_certificate(ReloadOutcome& outcome);
  void open_fixed_public_ports();
  /// Binds, listens and accepts; throws boost::system::system_error.
  void open_public_listener(const std::string& tunnel_id, const boost::asio::ip::tcp::endpoint& at);
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
  const EdgeConfig& config_;
  EdgePlugins& plugins_;
  EdgeIdentity identity_;
  std::function<void(const std::string&)> announce_;
  SecureRandom random_;
  TunnelRegistry registry_;
  EdgeMetrics metrics_;
  std::vector<sdk::ListenerPtr> listeners_;
  std::unique_ptr<AdminServer> admin_;
  std::map<LegId, std::shared_ptr<EdgeLeg>> legs_;
  std::map<std::string, std::shared_ptr<PublicListener>> public_listeners_;
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

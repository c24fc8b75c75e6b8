#pragma once
// The thin Asio shell around the sans-io Supervisor: it carries out the
// supervisor's actions (resolve, dial, register, heartbeat, close,
// unregister), reports what happened back as events with `now`, and arms
// one timer for the supervisor's next deadline.

#include "core/config/connector_config.hpp"
#include "core/connector/connector_admin.hpp"
#include "core/connector/connector_leg.hpp"
#include "core/supervisor/supervisor.hpp"
#include "core/log/repeat_summary.hpp"
#include "core/plugin/plugin_set.hpp"
#include "core/tls/secure_random.hpp"

#include "core/plugin/plugin_loader.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace warren::core {

struct ConnectorOptions {
  bool no_reconnect = false;
  /// Called with the public address each time a leg registers.
  std::function<void(const protocol::Registered&, unsigned leg)> on_registered;
  /// Called after the number of registered legs changed, and once at start
  /// (systemd STATUS=, core/service/connector_status.hpp).
  std::function<void(std::span<const supervisor::LegState> legs)> on_legs_changed;
  /// Called once when the run ends, before the io_context stops: the exit,
  /// and in words why (the edge's refusal, the last failure, or the reason).
  std::function<void(const supervisor::Exit&, const std::string& why)> on_exit;
};

class ConnectorShell {
 public:
  /// Throws std::runtime_error if no policy offers a backoff role.
  ConnectorShell(boost::asio::io_context& io, ConnectorConfig config, std::shared_ptr<ConnectorPlugins> plugins,
                 ConnectorOptions options);
  ~ConnectorShell();

  void start();
  /// Graceful stop (unregister, drain up to grace_period); a second call stops at once.
  void shutdown();
  /// Set when the run is over; the io_context has been stopped then.
  std::optional<int> exit_code() const { return exit_code_; }
  /// What the admin endpoints would answer at "/metrics" or "/status" (""
  /// for another path), without serving them: for the embedding API
  /// (core/embed). On the io_context's thread, like every member.
  std::string render_admin(std::string_view path) const;

  /// SIGHUP (connector_reload.cpp): runs `next`, a config that passed the
  /// config checks, with `plugins`, every object made from it (by a loader
  /// that loads plugin files replaced on disk anew). New streams go to the
  /// new backend while open ones finish on the old one (each stream shares
  /// ownership of the plugin set that made its backend); discovery,
  /// policies, ha_connections, stagger and grace_period apply as legs
  /// reconnect (Supervisor::handle_settings); [tunnel] identity and
  /// verification, [[transport]] and [admin] changes need a restart: said,
  /// not applied. Logs one line per change. Returns false, changing
  /// nothing, when the supervisor refuses the settings (said in a line).
  bool reload(const ConnectorConfig& next, std::shared_ptr<ConnectorPlugins> plugins);

 private:
  void pump();
  void execute(const supervisor::SupervisorAction& action);
  void dial(const supervisor::Dial& dial);
  void register_leg(const supervisor::Register& reg);
  void retire(const supervisor::RetireConnection& retire);
  void exit(const supervisor::Exit& exit);
  LegEvents events_for(unsigned leg, std::uint64_t id);
  /// Which of the leg's connections `id` still is, if any (callbacks of
  /// closed ones are ignored).
  std::optional<supervisor::LegConnection> which(unsigned leg, std::uint64_t id) const;
  bool current(unsigned leg, std::uint64_t id) const { return which(leg, id) == supervisor::LegConnection::current; }
  sdk::EdgeVerification verification() const;

  boost::asio::io_context& io_;
  ConnectorConfig config_;  ///< what runs: a reload changes the parts it applies
  /// The plugin set new streams' backend, discovery and the supervisor's
  /// policies come from; `transports_` the one new dials use. Legs and
  /// streams share ownership of the sets they were made with.
  std::shared_ptr<ConnectorPlugins> plugins_;
  std::shared_ptr<ConnectorPlugins> transports_;
  /// The current backend: a lease on `plugins_`'s backend that streams share
  /// (lease_backend); a reload drops it for the new set's.
  std::shared_ptr<sdk::Backend> backend_;
  std::shared_ptr<sdk::Backend> current_backend() const { return backend_; }
  /// A lease on `set`'s backend that keeps the set (library, logger) while a
  /// stream holds it, and destroys the backend once the last copy is gone,
  /// though legs keep the set for its transports (connector_reload.cpp).
  std::shared_ptr<sdk::Backend> lease_backend(std::shared_ptr<ConnectorPlugins> set);
  /// `set`, released on a later turn of the loop once its last user lets go
  /// (connector_reload.cpp).
  std::shared_ptr<ConnectorPlugins> released_later(std::shared_ptr<ConnectorPlugins> set);
  ConnectorOptions options_;
  SecureRandom random_;
  std::unique_ptr<supervisor::Supervisor> supervisor_;
  boost::asio::steady_timer timer_;
  /// One of a leg's connections: `id` names the attempt (0: none), so
  /// callbacks of older attempts are ignored; `connection` is null while
  /// dialing.
  struct Slot {
    std::uint64_t id = 0;
    std::shared_ptr<ConnectorLeg> connection;
    void close(sdk::error_code reason) {
      if (connection) connection->close(reason);
      *this = {};
    }
  };
  struct Leg {
    std::uint64_t next_id = 0;
    Slot current;   ///< the leg's connection: registers, carries new streams
    Slot probe;     ///< a dial of the preferred transport beside a fallback connection
    Slot retiring;  ///< the previous connection after a return: drains its streams
    Slot& slot(supervisor::LegConnection which) {
      return which == supervisor::LegConnection::probe      ? probe
             : which == supervisor::LegConnection::retiring ? retiring
                                                            : current;
    }
    /// What the last failure was, in words, for the one line that also says
    /// when the retry is (the supervisor's RetryScheduled follows the event).
    std::optional<std::string> failure;
    RepeatSummary retries;  ///< identical failures in a row are summarised
    std::uint64_t failed_attempts = 0;  ///< since the last registration
  };
  void retry_scheduled(const supervisor::RetryScheduled& retry);
  /// One info line when a leg dials somewhere else than before (connector_admin.cpp).
  void log_move(const supervisor::Dial& dial) const;
  /// Serves [admin] when configured (connector_admin.cpp); throws when it cannot bind.
  void start_admin();
  ConnectorIdentity admin_identity() const;
  /// Leg `leg`'s connections' FlowKey origins, for /status (connector_admin.cpp).
  std::vector<std::uint32_t> udp_origins(unsigned leg) const;
  std::vector<Leg> legs_;
  std::string connector_id_;  ///< sent with every registration: this process among the tunnel's replicas
  SpliceTracker splices_;
  /// A udp tunnel's flows, every leg's (legs hold weak references).
  std::shared_ptr<UdpFlows> udp_flows_;
  /// Its flows ended for `shutdown` before the stop began (shutdown()), so
  /// the exit line counts only the flows the stop ended.
  std::optional<std::uint64_t> udp_shutdowns_before_stop_;
  ConnectorLive live_{{}, &splices_};  ///< RTTs and bytes, for [admin] and the embedding API
  std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
  std::optional<protocol::Registered> quick_credentials_;  ///< assigned by the edge to leg 0
  std::optional<protocol::Rejected> fatal_rejection_;
  bool granted_port_logged_ = false;
  RepeatSummary discovery_retries_;
  RepeatSummary backend_failures_;  ///< every leg's streams reach the same backend
  std::uint64_t failed_resolves_ = 0;
  std::optional<std::string> last_failure_;  ///< for the exit line when a failure ends the run
  std::optional<int> exit_code_;
  std::optional<std::size_t> registered_legs_;  ///< as last told to on_legs_changed
  std::unique_ptr<ConnectorAdmin> admin_;  ///< reads supervisor_: declared after it, destroyed before it
};

}  // namespace warren::core

#pragma once
// The connector's admin endpoints ([admin] address): /metrics (Prometheus
// text), /ready (200 once a leg is registered, else 503) and /status (JSON:
// the tunnel, this connector's id, each leg's state, address, transport
// and recent history, and discovery's failures with the last one's words).
// Rendering is pure — it reads the supervisor and is given the time — so
// tests check exact text; ConnectorAdmin serves it.

#include "core/admin/admin_server.hpp"
#include "core/supervisor/supervisor.hpp"

#include <warren/sdk/endpoint.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace warren::core {

/// What the admin endpoints say besides the supervisor's state.
struct ConnectorIdentity {
  std::string tunnel;                   ///< the tunnel id; "" for a quick tunnel
  std::string connector_id;             ///< this process among the tunnel's replicas
  std::vector<std::string> transports;  ///< [[transport]] plugin names, by index
};

/// Prometheus text: legs by state, per-leg registrations, losses and failed
/// attempts by reason name, moves by kind, discovery failures by reason
/// name, and each connected leg's address.
std::string render_connector_metrics(const supervisor::Supervisor& supervisor, const ConnectorIdentity& identity);

/// True when at least one leg is registered (or draining while registered).
bool connector_ready(const supervisor::Supervisor& supervisor);

/// The /status document. `now` is the supervisor's clock; `wall_now` the
/// same instant on the system clock, to print history times as UTC.
std::string render_connector_status(const supervisor::Supervisor& supervisor, const ConnectorIdentity& identity,
                                    sdk::TimePoint now, std::chrono::system_clock::time_point wall_now);

class ConnectorAdmin {
 public:
  /// Binds `at` at once; throws std::runtime_error naming the address when it
  /// cannot. `supervisor` must outlive this object.
  ConnectorAdmin(boost::asio::io_context& io, const sdk::Endpoint& at, const supervisor::Supervisor& supervisor,
                 ConnectorIdentity identity);
  boost::asio::ip::tcp::endpoint local_endpoint() const { return server_->local_endpoint(); }

 private:
  AdminServer::Routes routes();

  const supervisor::Supervisor& supervisor_;
  ConnectorIdentity identity_;
  std::unique_ptr<AdminServer> server_;
};

}  // namespace warren::core

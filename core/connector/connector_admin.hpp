#pragma once
// The connector's admin endpoints ([admin] address): /metrics (Prometheus
// text), /ready (200 once a leg is registered, else 503) and /status (JSON:
// the tunnel, this connector's id, config file and start, each leg's state,
// address, transport, heartbeat RTT, streams and recent history, the bytes
// copied, and discovery's failures with the last one's words).
// Rendering is pure — it reads the supervisor and is given the time — so
// tests check exact text; ConnectorAdmin serves it.

#include "core/admin/admin_server.hpp"
#include "core/splice/stream_splice.hpp"
#include "core/supervisor/supervisor.hpp"

#include <warren/sdk/endpoint.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace warren::core {

class UdpFlows;

/// What the admin endpoints say besides the supervisor's state.
struct ConnectorIdentity {
  std::string tunnel;                   ///< the tunnel id; "" for a quick tunnel
  std::string connector_id;             ///< this process among the tunnel's replicas
  std::vector<std::string> transports;  ///< [[transport]] plugin names, by index
  std::string config_file;              ///< the config file's path as given; "" for a quick tunnel
  std::chrono::system_clock::time_point started{};  ///< when the process started serving
};

/// What the shell measures besides the supervisor's state.
struct ConnectorLive {
  /// The last heartbeat round trip of each leg's current connection (index:
  /// leg); shown while the leg is registered.
  std::vector<std::optional<sdk::Duration>> rtt;
  /// Records that a heartbeat of `leg`'s current connection came back after `round_trip`.
  void heartbeat(unsigned leg, sdk::Duration round_trip) {
    if (leg >= rtt.size()) rtt.resize(leg + 1);
    rtt[leg] = round_trip;
  }
  /// Every backend splice: streams ever spliced and bytes copied so far
  /// (a: the tunnel stream, b: the backend). Null: none counted.
  const SpliceTracker* splices = nullptr;
  /// Bytes each leg's splices copied, over all its connections (index: leg;
  /// a: the tunnel stream, b: the backend).
  std::vector<std::shared_ptr<ByteCounter>> leg_bytes;
  /// Leg `leg`'s counter, made on first use.
  std::shared_ptr<ByteCounter> bytes_of(unsigned leg) {
    if (leg >= leg_bytes.size()) leg_bytes.resize(leg + 1);
    if (!leg_bytes[leg]) leg_bytes[leg] = std::make_shared<ByteCounter>();
    return leg_bytes[leg];
  }
  /// A udp tunnel's flows (connector_udp_admin.hpp); shown once a udp leg registered. Null: none.
  const UdpFlows* udp = nullptr;
  /// The flows' origins (FlowKey::origin) of leg `leg`'s connections now
  /// (current, and one retiring or probing beside it), for its flows_open.
  /// Unset: no leg shows flows.
  std::function<std::vector<std::uint32_t>(unsigned leg)> udp_origins;
};

/// Prometheus text: legs by state, per-leg registrations, losses (the
/// reconnects' reasons), failed attempts and refused registrations by reason
/// name, moves by kind, discovery failures by reason name, each connected
/// leg's address, RTT and open streams, and the streams and bytes spliced.
std::string render_connector_metrics(const supervisor::Supervisor& supervisor, const ConnectorIdentity& identity,
                                     const ConnectorLive& live = {});

/// True when at least one leg is registered (or draining while registered).
bool connector_ready(const supervisor::Supervisor& supervisor);

/// The /status document. `now` is the supervisor's clock; `wall_now` the
/// same instant on the system clock, to print history times as UTC.
std::string render_connector_status(const supervisor::Supervisor& supervisor, const ConnectorIdentity& identity,
                                    sdk::TimePoint now, std::chrono::system_clock::time_point wall_now,
                                    const ConnectorLive& live = {});

class ConnectorAdmin {
 public:
  /// Binds `at` at once; throws std::runtime_error naming the address when it
  /// cannot. `supervisor` and `live` (the shell's, read at each request)
  /// must outlive this object.
  ConnectorAdmin(boost::asio::io_context& io, const sdk::Endpoint& at, const supervisor::Supervisor& supervisor,
                 ConnectorIdentity identity, const ConnectorLive& live);
  boost::asio::ip::tcp::endpoint local_endpoint() const { return server_->local_endpoint(); }

 private:
  AdminServer::Routes routes();

  const supervisor::Supervisor& supervisor_;
  ConnectorIdentity identity_;
  const ConnectorLive& live_;
  std::unique_ptr<AdminServer> server_;
};

}  // namespace warren::core

#pragma once
// The edge's registry of tunnels and their live legs. Sans-io: no sockets,
// no clock but the `now` it is given, randomness injected. The edge server
// asks it who may register, which port a tunnel gets, which leg carries the
// next public connection, and which quick tunnels have expired.
//
// A tunnel may be served by several connector processes at once (replicas,
// as cloudflared runs them): each leg belongs to a connector id, a leg
// replaces only the same connector's leg of the same index, and public
// connections go round robin over the replicas, then over each one's legs.

#include "core/config/edge_config.hpp"
#include "core/edge/token_check.hpp"
#include "core/protocol/messages.hpp"

#include <warren/sdk/random.hpp>
#include <warren/sdk/time.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace warren::core {

using LegId = std::uint64_t;

struct RegistryLimits {
  PortRange ports;
  std::uint32_t max_tunnels = 1000;
  std::uint32_t max_streams_per_tunnel = 1000;
  bool quick_tunnels = false;
  sdk::Duration quick_tunnel_ttl = std::chrono::minutes(5);  ///< kept this long after its last leg was lost
                                                             ///< (at once after a clean unregister)
  /// A leg silent this long may be evicted by a registration with
  /// replace_existing (a reconnect of a connector whose old connection died
  /// without a word). A leg heard from more recently is someone's live
  /// connection — a replacement connector waits for it to unregister. The
  /// edge sets max(2 s, 4 heartbeat intervals).
  sdk::Duration evict_after = std::chrono::seconds(2);
  /// A leg silent this long takes new public connections only when no leg
  /// heard from more recently can: a killed replica's legs stop taking them
  /// within a few missed heartbeats. Only a preference, so it may be short
  /// (a late heartbeat costs nothing). The edge sets max(250 ms, 3 heartbeat
  /// intervals).
  sdk::Duration suspect_after = std::chrono::milliseconds(1500);
  /// Replicas per quick tunnel (a configured tunnel has its own max_replicas).
  std::uint32_t max_replicas = 4;
};

/// The limits an edge config sets.
RegistryLimits registry_limits_of(const EdgeConfig& config);

/// What a successful registration means for the server.
struct Admission {
  std::string tunnel_id;
  std::string token;  ///< the assigned secret, for a quick tunnel
  std::uint16_t public_port = 0;
  bool open_listener = false;       ///< the tunnel had no public listener yet
  std::optional<LegId> replaced;    ///< an older leg with this index to close
  bool replica_joined = false;      ///< the leg's connector had no leg in the tunnel before
  std::size_t replicas = 0;         ///< live replicas of the tunnel now, this one included
  std::uint32_t max_replicas = 0;   ///< the tunnel's limit
};

/// A replica's last leg left the tunnel (lost, evicted, or unregistered to drain).
struct ReplicaLeft {
  std::string tunnel_id;
  std::string connector_id;
  std::size_t replicas = 0;  ///< live replicas left
  std::uint32_t max_replicas = 0;
};

class TunnelRegistry {
 public:
  TunnelRegistry(RegistryLimits limits, const std::vector<TunnelEntry>& configured);

  /// Admits `leg` or says why not. `now` and `random` serve quick tunnels;
  /// `now` also tells live replicas (a leg heard from within evict_after)
  /// from a killed one's silent legs, which do not count against max_replicas.
  std::variant<Admission, protocol::Rejected> register_leg(LegId leg, const protocol::RegisterConnection& request,
                                                           sdk::TimePoint now, sdk::RandomSource& random);
  /// The leg is gone (connection lost or closed). Says so when it was its
  /// replica's last.
  std::optional<ReplicaLeft> remove_leg(LegId leg, sdk::TimePoint now);
  /// The leg's connector was heard from (registration, heartbeat).
  void heard_from(LegId leg, sdk::TimePoint now);
  /// The connector asked to drain this leg: it gets no new streams and gives
  /// up its connection index, so a replacement registers beside it instead
  /// of evicting it while its streams finish. Says so when it was its
  /// replica's last live leg.
  std::optional<ReplicaLeft> drain_leg(LegId leg, sdk::TimePoint now);
  /// The public listener for `tunnel_id` could not be opened: undo the admission.
  void listener_failed(const std::string& tunnel_id, LegId leg);

  /// The leg for the next public connection of `tunnel_id`: round robin over
  /// the replicas, then over each replica's legs, among non-draining legs
  /// heard from within suspect_after of `now` (among the silent ones only if
  /// none was); nullopt if there is no leg or the stream limit is reached.
  std::optional<LegId> open_stream(const std::string& tunnel_id, sdk::TimePoint now);
  void close_stream(const std::string& tunnel_id);
  /// Another leg for a public connection already counted by open_stream,
  /// whose stream died before the connector answered: chosen as open_stream
  /// does, never one of `tried`, and a leg of a replica not in
  /// `avoid_connectors` (those tried already) whenever one can take it.
  std::optional<LegId> redispatch_leg(const std::string& tunnel_id, sdk::TimePoint now, const std::set<LegId>& tried,
                                      const std::set<std::string>& avoid_connectors);
  /// The connector id of a live or draining leg; empty if unknown.
  std::string connector_of(LegId leg) const;

  /// Quick tunnels whose last leg left more than the ttl ago: forget them
  /// (the server closes their listeners). Returns their ids.
  std::vector<std::string> expire(sdk::TimePoint now);
  /// The earliest time expire() could have work; nullopt if none.
  std::optional<sdk::TimePoint> next_expiry() const;

  // A reload (core/edge/edge_reload_plan.hpp) changes the tunnels and limits
  // while legs live; each call below is one step of its plan.

  /// New limits for what is admitted or assigned from now on; tunnels, legs
  /// and ports held keep what they have.
  void set_limits(const RegistryLimits& limits) { limits_ = limits; }
  /// A [[tunnels]] entry added: registrable at once. False (nothing done)
  /// when a tunnel with that id exists.
  bool add_tunnel(const TunnelEntry& entry);
  /// A [[tunnels]] entry removed: forgotten, so no registration or public
  /// connection finds it; its port is free again. Returns its legs (live and
  /// draining), now draining in no tunnel: they take no new stream, and the
  /// server closes them once their streams end.
  std::vector<LegId> remove_tunnel(const std::string& id);
  /// A [[tunnels]] entry changed: its tokens and max_replicas apply to the
  /// next registrations. Its public_port applies only while the tunnel holds
  /// no port (none of its legs registered yet): returns whether it did.
  bool update_tunnel(const TunnelEntry& entry);
  /// Legs of `tunnel_id`, live and draining.
  std::vector<LegId> legs_of(const std::string& tunnel_id) const;

  struct TunnelView {
    std::string id;
    std::uint16_t public_port;
    std::size_t legs;      ///< live legs
    std::size_t draining;  ///< unregistered legs still finishing streams
    std::uint32_t streams;
    bool quick;
  };
  std::vector<TunnelView> tunnels() const;
  /// Replicas of `tunnel_id` with a leg heard from within evict_after of `now`.
  std::size_t replicas(const std::string& tunnel_id, sdk::TimePoint now) const;
  std::size_t leg_count() const { return legs_.size(); }

 private:
  struct Leg {
    std::string tunnel_id;
    std::string connector_id;
    std::uint8_t index;
    bool draining = false;
    sdk::TimePoint last_heard{};
  };
  struct Tunnel {
    std::string token;  ///< a quick tunnel's assigned secret, returned to its legs
    TokenSet accepted;  ///< the secrets that register it
    std::optional<std::uint16_t> configured_port;
    std::optional<std::uint16_t> requested_port;  ///< asked for by a connector and granted
    std::uint16_t port = 0;  ///< 0 until a listener is open
    bool quick = false;
    std::uint32_t max_replicas = 4;
    /// Live legs by (connector id, connection index): each replica has its own indexes.
    std::map<std::pair<std::string, std::uint8_t>, LegId> legs;
    std::set<LegId> draining;            ///< unregistered legs finishing their streams
    std::uint32_t streams = 0;
    std::size_t next_leg = 0;  ///< round-robin cursor
    std::optional<sdk::TimePoint> empty_since;
  };

  std::optional<std::uint16_t> assign_port(const Tunnel& tunnel) const;
  /// Why `requested` cannot be this tunnel's public port, or nullopt.
  std::optional<protocol::Rejected> check_requested_port(const std::string& id, const Tunnel& tunnel,
                                                         std::uint16_t requested) const;
  bool reserved_by_other(const std::string& id, std::uint16_t port) const;
  std::string random_hex(sdk::RandomSource& random, std::size_t bytes) const;
  std::size_t active_tunnels() const;
  bool heard_within(LegId leg, sdk::TimePoint now, sdk::Duration within) const;
  /// open_stream's choice among the legs `usable` admits; counts nothing.
  template <typename Usable>
  std::optional<LegId> choose_leg(Tunnel& tunnel, sdk::TimePoint now, Usable usable);
  std::size_t live_replicas(const Tunnel& tunnel, sdk::TimePoint now) const;
  /// Forgets the slot `leg` held; says so if that was its replica's last.
  std::optional<ReplicaLeft> free_slot(const std::string& tunnel_id, Tunnel& tunnel, const Leg& leg, LegId id,
                                       sdk::TimePoint now);

  RegistryLimits limits_;
  std::map<std::string, Tunnel> tunnels_;
  std::map<LegId, Leg> legs_;
  std::set<std::uint16_t> ports_in_use_;
};

/// True if `a` is the secret `b` (a non-empty one), in time that does not
/// depend on what they share (TokenSet).
bool constant_time_equal(const std::string& a, const std::string& b);

}  // namespace warren::core

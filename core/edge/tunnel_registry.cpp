#include "core/edge/tunnel_registry.hpp"

#include "core/protocol/message_rules.hpp"

namespace warren::core {

using protocol::Rejected;
using namespace std::chrono_literals;

RegistryLimits registry_limits_of(const EdgeConfig& config) {
  RegistryLimits limits;
  limits.ports = config.edge.public_ports;
  limits.max_tunnels = config.edge.max_tunnels;
  limits.max_streams_per_tunnel = config.edge.max_streams_per_tunnel;
  limits.quick_tunnels = config.edge.quick_tunnels;
  // Connectors beat at our interval: a few missed beats mark a leg evictable.
  limits.evict_after = std::max<sdk::Duration>(std::chrono::seconds(2), 4 * config.edge.heartbeat_interval);
  // New streams leave a leg sooner: three missed beats (a killed replica).
  limits.suspect_after = std::max<sdk::Duration>(std::chrono::milliseconds(250), 3 * config.edge.heartbeat_interval);
  return limits;
}

bool constant_time_equal(const std::string& a, const std::string& b) { return TokenSet({b}).accepts(a); }

TunnelRegistry::TunnelRegistry(RegistryLimits limits, const std::vector<TunnelEntry>& configured)
    : limits_(limits) {
  for (const auto& t : configured) add_tunnel(t);
}

bool TunnelRegistry::add_tunnel(const TunnelEntry& entry) {
  Tunnel tunnel;
  tunnel.accepted = TokenSet(entry.tokens);
  tunnel.configured_port = entry.public_port;
  tunnel.max_replicas = entry.max_replicas;
  return tunnels_.emplace(entry.id, std::move(tunnel)).second;
}

namespace {

Rejected refusal(sdk::errc code, std::string message, bool fatal, sdk::Duration retry_after = 0s) {
  return Rejected{code, std::move(message), fatal, std::chrono::duration_cast<std::chrono::milliseconds>(retry_after)};
}

// How a replica is named in a sentence.
std::string replica_text(const std::string& connector_id) {
  return connector_id.empty() ? std::string("a connector without an id (from before replicas)")
                              : "connector " + connector_id;
}

std::string seconds_text(sdk::Duration d) {
  auto tenths = std::chrono::duration_cast<std::chrono::milliseconds>(d).count() / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

}  // namespace

std::variant<Admission, Rejected> TunnelRegistry::register_leg(LegId leg, const protocol::RegisterConnection& request,
                                                               sdk::TimePoint now, sdk::RandomSource& random) {
  if (request.protocol_version < protocol::kOldestProtocolVersion ||
      request.protocol_version > protocol::kProtocolVersion)
    return refusal(sdk::errc::protocol_version,
                   "this edge speaks protocol " + std::to_string(protocol::kOldestProtocolVersion) + " to " +
                       std::to_string(protocol::kProtocolVersion) + ", not " +
                       std::to_string(request.protocol_version),
                   true);
  if (request.conn_index >= protocol::kMaxLegs)
    return refusal(sdk::errc::protocol_error, "connection index " + std::to_string(request.conn_index) +
                                                  " is out of range 0-" + std::to_string(protocol::kMaxLegs - 1),
                   true);
  if (legs_.count(leg)) return refusal(sdk::errc::protocol_error, "this connection is already registered", true);

  Admission admission;
  auto it = tunnels_.find(request.tunnel_id);
  if (request.quick_tunnel && request.tunnel_id.empty()) {
    if (!limits_.quick_tunnels)
      return refusal(sdk::errc::auth_failed, "quick tunnels are turned off on this edge; ask its operator for a "
                                             "tunnel id and token",
                     true);
    if (active_tunnels() >= limits_.max_tunnels)
      return refusal(sdk::errc::tunnel_limit, "this edge serves its maximum number of tunnels", false, 30s);
    Tunnel tunnel;
    tunnel.quick = true;
    tunnel.max_replicas = limits_.max_replicas;
    tunnel.token = random_hex(random, 32);
    tunnel.accepted = TokenSet({tunnel.token});
    std::string id;
    do id = "q-" + random_hex(random, 8);
    while (tunnels_.count(id));
    it = tunnels_.emplace(id, std::move(tunnel)).first;
    admission.token = it->second.token;
  } else if (request.quick_tunnel) {
    // A later leg (or a reconnect) of a quick tunnel joins it with the id and
    // token this edge assigned. Gone means the edge restarted or it expired.
    if (it == tunnels_.end() || !it->second.quick || !it->second.accepted.accepts(request.token))
      return refusal(sdk::errc::tunnel_unknown,
                     "quick tunnel '" + request.tunnel_id +
                         "' no longer exists on this edge (it restarted or the tunnel expired); start `warren "
                         "quick` again for a new address",
                     true);
    admission.token = it->second.token;
  } else {
    // The same sentence, and a check of the same cost, for an unknown id and
    // a wrong token: no probing for ids. Every listed token is compared.
    static const TokenSet nobody;
    if (!(it == tunnels_.end() ? nobody : it->second.accepted).accepts(request.token) || it == tunnels_.end())
      return refusal(sdk::errc::auth_failed,
                     "the edge does not accept this tunnel id and token; check [tunnel] id and token against the "
                     "edge's [[tunnels]]",
                     true);
    if (it->second.quick) admission.token = it->second.token;
    if (it->second.legs.empty() && it->second.port == 0 && active_tunnels() >= limits_.max_tunnels)
      return refusal(sdk::errc::tunnel_limit, "this edge serves its maximum number of tunnels", false, 30s);
  }

  Tunnel& tunnel = it->second;
  if (request.requested_public_port != 0)
    if (auto refused = check_requested_port(it->first, tunnel, request.requested_public_port)) {
      if (tunnel.quick && tunnel.legs.empty() && tunnel.draining.empty() && tunnel.port == 0) tunnels_.erase(it);
      return *refused;
    }
  bool joining = true;
  for (const auto& [slot, held] : tunnel.legs) joining = joining && slot.first != request.connector_id;
  if (joining && live_replicas(tunnel, now) >= tunnel.max_replicas)
    // Not fatal: replicas come and go, and this one is useful the moment
    // one leaves (a standby; a rolling restart with max_replicas = 1).
    return refusal(sdk::errc::tunnel_limit,
                   "tunnel '" + it->first + "' has max_replicas = " + std::to_string(tunnel.max_replicas) +
                       " on this edge and that many connectors serve it already; " +
                       replica_text(request.connector_id) + " retries and joins when one leaves",
                   false, 5s);
  auto key = std::make_pair(request.connector_id, request.conn_index);
  if (auto existing = tunnel.legs.find(key); existing != tunnel.legs.end()) {
    std::string slot = "connection index " + std::to_string(request.conn_index) + " of tunnel '" + it->first + "'" +
                       (request.connector_id.empty() ? "" : " for connector " + request.connector_id);
    if (!request.replace_existing)
      return refusal(sdk::errc::duplicate_registration, slot + " is already registered", false, 1s);
    // Only a silent leg is evicted: a live one is another process's (one
    // without a connector id, or one sharing a configured connector_id), and
    // it keeps its streams until it unregisters, which frees the index.
    auto silent = now - legs_.at(existing->second).last_heard;
    if (silent < limits_.evict_after)
      return refusal(
          sdk::errc::duplicate_registration,
          slot + " is held by a live connection (heard from " + seconds_text(silent) +
              " ago); it is replaced once it unregisters or falls silent" +
              (request.connector_id.empty() ? std::string()
                                            : " (does another process run with the same [tunnel] connector_id?)"),
          false, 1s);
    admission.replaced = existing->second;
    legs_.erase(existing->second);
    tunnel.legs.erase(existing);
  }
  if (tunnel.port == 0) {
    if (request.requested_public_port != 0 && !tunnel.configured_port)
      tunnel.requested_port = request.requested_public_port;
    auto port = assign_port(tunnel);
    if (!port) {
      if (tunnel.quick && tunnel.legs.empty() && tunnel.draining.empty()) tunnels_.erase(it);
      return refusal(sdk::errc::port_in_use, "no free public port on this edge", false, 5s);
    }
    tunnel.port = *port;
    ports_in_use_.insert(*port);
    admission.open_listener = true;
  }
  tunnel.legs[key] = leg;
  tunnel.empty_since.reset();
  legs_[leg] = Leg{it->first, request.connector_id, request.conn_index, false, now};
  admission.tunnel_id = it->first;
  admission.public_port = tunnel.port;
  admission.replica_joined = joining;
  admission.replicas = live_replicas(tunnel, now);
  admission.max_replicas = tunnel.max_replicas;
  return admission;
}

bool TunnelRegistry::reserved_by_other(const std::string& id, std::uint16_t port) const {
  for (const auto& [other_id, other] : tunnels_)
    if (other_id != id && (other.configured_port == port || other.port == port)) return true;
  return false;
}

std::optional<Rejected> TunnelRegistry::check_requested_port(const std::string& id, const Tunnel& tunnel,
                                                             std::uint16_t requested) const {
  auto asked = std::to_string(requested);
  // The edge's own [[tunnels]] public_port wins over what a connector asks.
  if (tunnel.configured_port && *tunnel.configured_port != requested)
    return refusal(sdk::errc::port_in_use,
                   "tunnel '" + id + "' has public port " + std::to_string(*tunnel.configured_port) +
                       " in this edge's config; [tunnel] public_port = " + asked +
                       " asks for another (ask for that port or leave public_port out)",
                   true);
  if (tunnel.configured_port) return std::nullopt;
  if (tunnel.port != 0 && tunnel.port != requested)
    return refusal(sdk::errc::port_in_use,
                   "tunnel '" + id + "' already listens on public port " + std::to_string(tunnel.port) +
                       "; [tunnel] public_port = " + asked + " asks for another",
                   true);
  if (tunnel.port == requested) return std::nullopt;
  if (requested < limits_.ports.first || requested > limits_.ports.last)
    return refusal(sdk::errc::port_in_use,
                   "public port " + asked + " is outside this edge's public_ports " +
                       std::to_string(limits_.ports.first) + "-" + std::to_string(limits_.ports.last) +
                       "; ask for a port in that range, or leave [tunnel] public_port out to get one assigned",
                   true);
  if (reserved_by_other(id, requested))
    return refusal(sdk::errc::port_in_use, "public port " + asked + " is taken by another tunnel on this edge",
                   false, 5s);
  return std::nullopt;
}

std::optional<std::uint16_t> TunnelRegistry::assign_port(const Tunnel& tunnel) const {
  if (auto fixed = tunnel.configured_port ? tunnel.configured_port : tunnel.requested_port) {
    if (ports_in_use_.count(*fixed)) return std::nullopt;
    return fixed;
  }
  for (std::uint32_t p = limits_.ports.first; p <= limits_.ports.last; ++p) {
    bool reserved = ports_in_use_.count(static_cast<std::uint16_t>(p)) > 0;
    for (const auto& [id, t] : tunnels_) reserved = reserved || t.configured_port == p;
    if (!reserved) return static_cast<std::uint16_t>(p);
  }
  return std::nullopt;
}

std::optional<ReplicaLeft> TunnelRegistry::free_slot(const std::string& tunnel_id, Tunnel& tunnel, const Leg& leg,
                                                     LegId id, sdk::TimePoint now) {
  auto slot = tunnel.legs.find({leg.connector_id, leg.index});
  if (slot == tunnel.legs.end() || slot->second != id) return std::nullopt;
  tunnel.legs.erase(slot);
  for (const auto& [other, held] : tunnel.legs)
    if (other.first == leg.connector_id) return std::nullopt;
  return ReplicaLeft{tunnel_id, leg.connector_id, live_replicas(tunnel, now), tunnel.max_replicas};
}

std::optional<ReplicaLeft> TunnelRegistry::remove_leg(LegId leg, sdk::TimePoint now) {
  auto it = legs_.find(leg);
  if (it == legs_.end()) return std::nullopt;
  std::optional<ReplicaLeft> left;
  auto tunnel = tunnels_.find(it->second.tunnel_id);
  if (tunnel != tunnels_.end()) {
    Tunnel& t = tunnel->second;
    left = free_slot(tunnel->first, t, it->second, leg, now);
    bool unregistered = it->second.draining;
    t.draining.erase(leg);
    if (t.legs.empty() && t.draining.empty()) {
      // A quick tunnel whose last leg unregistered cleanly is over: its
      // credentials lived only in that connector, so nobody can resume it,
      // and holding its port for the ttl would only starve other tunnels.
      t.empty_since = t.quick && unregistered ? now - limits_.quick_tunnel_ttl : now;
    }
  }
  legs_.erase(it);
  return left;
}

void TunnelRegistry::heard_from(LegId leg, sdk::TimePoint now) {
  if (auto it = legs_.find(leg); it != legs_.end()) it->second.last_heard = now;
}

std::optional<ReplicaLeft> TunnelRegistry::drain_leg(LegId leg, sdk::TimePoint now) {
  auto it = legs_.find(leg);
  if (it == legs_.end() || it->second.draining) return std::nullopt;
  it->second.draining = true;
  auto tunnel = tunnels_.find(it->second.tunnel_id);
  if (tunnel == tunnels_.end()) return std::nullopt;
  Tunnel& t = tunnel->second;
  auto left = free_slot(tunnel->first, t, it->second, leg, now);
  t.draining.insert(leg);
  return left;
}

void TunnelRegistry::listener_failed(const std::string& tunnel_id, LegId leg) {
  auto it = tunnels_.find(tunnel_id);
  if (it == tunnels_.end()) return;
  ports_in_use_.erase(it->second.port);
  it->second.port = 0;
  it->second.requested_port.reset();
  remove_leg(leg, {});
  if (it->second.quick && it->second.legs.empty() && it->second.draining.empty()) tunnels_.erase(it);
}

template <typename Usable>
std::optional<LegId> TunnelRegistry::choose_leg(Tunnel& tunnel, sdk::TimePoint now, Usable usable) {
  // Legs heard from lately come first: one silent for suspect_after (its
  // connector killed, the heartbeat timeout not reached yet) takes a new
  // stream only when no other leg can. Draining legs are not in `legs`.
  // Replicas take turns, so each process (and its backend) gets its share
  // whatever its leg count; `legs` is ordered by connector id, then index.
  std::map<std::string, std::vector<LegId>> heard, silent;
  for (const auto& [slot, leg] : tunnel.legs)
    if (usable(slot.first, leg))
      (heard_within(leg, now, limits_.suspect_after) ? heard : silent)[slot.first].push_back(leg);
  const auto& live = heard.empty() ? silent : heard;
  if (live.empty()) return std::nullopt;
  std::size_t turn = tunnel.next_leg++;
  const auto& replica = std::next(live.begin(), static_cast<std::ptrdiff_t>(turn % live.size()))->second;
  return replica[(turn / live.size()) % replica.size()];
}

std::optional<LegId> TunnelRegistry::open_stream(const std::string& tunnel_id, sdk::TimePoint now) {
  auto it = tunnels_.find(tunnel_id);
  if (it == tunnels_.end() || it->second.streams >= limits_.max_streams_per_tunnel) return std::nullopt;
  auto chosen = choose_leg(it->second, now, [](const std::string&, LegId) { return true; });
  if (chosen) ++it->second.streams;
  return chosen;
}

std::optional<LegId> TunnelRegistry::redispatch_leg(const std::string& tunnel_id, sdk::TimePoint now,
                                                    const std::set<LegId>& tried,
                                                    const std::set<std::string>& avoid_connectors) {
  auto it = tunnels_.find(tunnel_id);
  if (it == tunnels_.end()) return std::nullopt;
  // A killed replica's other legs die with the one that failed, often
  // before the edge has noticed: another replica is the better bet.
  auto other_replica = choose_leg(it->second, now, [&](const std::string& connector, LegId leg) {
    return !tried.count(leg) && !avoid_connectors.count(connector);
  });
  if (other_replica) return other_replica;
  return choose_leg(it->second, now, [&](const std::string&, LegId leg) { return !tried.count(leg); });
}

std::string TunnelRegistry::connector_of(LegId leg) const {
  auto it = legs_.find(leg);
  return it == legs_.end() ? std::string() : it->second.connector_id;
}

void TunnelRegistry::close_stream(const std::string& tunnel_id) {
  if (auto it = tunnels_.find(tunnel_id); it != tunnels_.end() && it->second.streams > 0) --it->second.streams;
}

std::vector<std::string> TunnelRegistry::expire(sdk::TimePoint now) {
  std::vector<std::string> gone;
  for (auto it = tunnels_.begin(); it != tunnels_.end();) {
    const Tunnel& t = it->second;
    if (t.quick && t.legs.empty() && t.draining.empty() && t.empty_since &&
        now - *t.empty_since >= limits_.quick_tunnel_ttl) {
      ports_in_use_.erase(t.port);
      gone.push_back(it->first);
      it = tunnels_.erase(it);
    } else {
      ++it;
    }
  }
  return gone;
}

std::optional<sdk::TimePoint> TunnelRegistry::next_expiry() const {
  std::optional<sdk::TimePoint> next;
  for (const auto& [id, t] : tunnels_)
    if (t.quick && t.legs.empty() && t.draining.empty() && t.empty_since) {
      auto at = *t.empty_since + limits_.quick_tunnel_ttl;
      if (!next || at < *next) next = at;
    }
  return next;
}

std::vector<TunnelRegistry::TunnelView> TunnelRegistry::tunnels() const {
  std::vector<TunnelView> out;
  for (const auto& [id, t] : tunnels_) out.push_back({id, t.port, t.legs.size(), t.draining.size(), t.streams, t.quick});
  return out;
}

std::size_t TunnelRegistry::replicas(const std::string& tunnel_id, sdk::TimePoint now) const {
  auto it = tunnels_.find(tunnel_id);
  return it == tunnels_.end() ? 0 : live_replicas(it->second, now);
}

bool TunnelRegistry::heard_within(LegId leg, sdk::TimePoint now, sdk::Duration within) const {
  return now - legs_.at(leg).last_heard < within;
}

std::size_t TunnelRegistry::live_replicas(const Tunnel& tunnel, sdk::TimePoint now) const {
  std::set<std::string_view> live;
  for (const auto& [slot, leg] : tunnel.legs)
    if (heard_within(leg, now, limits_.evict_after)) live.insert(slot.first);
  return live.size();
}

std::size_t TunnelRegistry::active_tunnels() const {
  std::size_t n = 0;
  for (const auto& [id, t] : tunnels_) n += (t.port != 0 || !t.legs.empty() || !t.draining.empty()) ? 1 : 0;
  return n;
}

std::string TunnelRegistry::random_hex(sdk::RandomSource& random, std::size_t bytes) const {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  while (out.size() < 2 * bytes) {
    std::uint64_t r = random.next_u64();
    for (int i = 0; i < 16 && out.size() < 2 * bytes; ++i, r >>= 4) out += hex[r & 0xf];
  }
  return out;
}

}  // namespace warren::core

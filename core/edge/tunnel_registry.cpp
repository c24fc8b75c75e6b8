#include "core/edge/tunnel_registry.hpp"

namespace warren::core {

using protocol::Rejected;
using namespace std::chrono_literals;

bool constant_time_equal(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % (b.size() ? b.size() : 1)]);
  return diff == 0 && !b.empty();
}

TunnelRegistry::TunnelRegistry(RegistryLimits limits, const std::vector<TunnelEntry>& configured)
    : limits_(limits) {
  for (const auto& t : configured) {
    Tunnel tunnel;
    tunnel.token = t.token;
    tunnel.configured_port = t.public_port;
    tunnels_.emplace(t.id, std::move(tunnel));
  }
}

std::variant<Admission, Rejected> TunnelRegistry::register_leg(LegId leg, const protocol::RegisterConnection& request,
                                                               sdk::TimePoint now, sdk::RandomSource& random) {
  auto reject = [](sdk::errc code, std::string message, bool fatal, sdk::Duration retry_after = 0s) {
    return Rejected{code, std::move(message), fatal, std::chrono::duration_cast<std::chrono::milliseconds>(retry_after)};
  };
  if (request.protocol_version != protocol::kProtocolVersion)
    return reject(sdk::errc::protocol_version,
                  "this edge speaks protocol " + std::to_string(protocol::kProtocolVersion) + ", not " +
                      std::to_string(request.protocol_version),
                  true);
  if (request.conn_index >= limits_.max_legs)
    return reject(sdk::errc::protocol_error, "connection index " + std::to_string(request.conn_index) +
                                                 " is out of range 0-" + std::to_string(limits_.max_legs - 1),
                  true);
  if (legs_.count(leg)) return reject(sdk::errc::protocol_error, "this connection is already registered", true);

  Admission admission;
  auto it = tunnels_.find(request.tunnel_id);
  if (request.quick_tunnel && request.tunnel_id.empty()) {
    if (!limits_.quick_tunnels)
      return reject(sdk::errc::auth_failed, "quick tunnels are turned off on this edge; ask its operator for a "
                                            "tunnel id and token",
                    true);
    if (active_tunnels() >= limits_.max_tunnels)
      return reject(sdk::errc::tunnel_limit, "this edge serves its maximum number of tunnels", false, 30s);
    Tunnel tunnel;
    tunnel.quick = true;
    tunnel.token = random_hex(random, 32);
    std::string id;
    do id = "q-" + random_hex(random, 8);
    while (tunnels_.count(id));
    it = tunnels_.emplace(id, std::move(tunnel)).first;
    admission.token = it->second.token;
  } else {
    // The same sentence for an unknown id and a wrong token: no probing for ids.
    if (it == tunnels_.end() || !constant_time_equal(request.token, it->second.token))
      return reject(sdk::errc::auth_failed,
                    "the edge does not accept this tunnel id and token; check [tunnel] id and token against the "
                    "edge's [[tunnels]]",
                    true);
    if (it->second.quick) admission.token = it->second.token;
    if (it->second.legs.empty() && it->second.port == 0 && active_tunnels() >= limits_.max_tunnels)
      return reject(sdk::errc::tunnel_limit, "this edge serves its maximum number of tunnels", false, 30s);
  }

  Tunnel& tunnel = it->second;
  if (auto existing = tunnel.legs.find(request.conn_index); existing != tunnel.legs.end()) {
    if (!request.replace_existing)
      return reject(sdk::errc::duplicate_registration,
                    "connection index " + std::to_string(request.conn_index) + " of tunnel '" + it->first +
                        "' is already registered",
                    false, 1s);
    admission.replaced = existing->second;
    legs_.erase(existing->second);
    tunnel.legs.erase(existing);
  }
  if (tunnel.port == 0) {
    auto port = assign_port(tunnel);
    if (!port) {
      if (tunnel.quick && tunnel.legs.empty()) tunnels_.erase(it);
      return reject(sdk::errc::port_in_use, "no free public port on this edge", false, 5s);
    }
    tunnel.port = *port;
    ports_in_use_.insert(*port);
    admission.open_listener = true;
  }
  tunnel.legs[request.conn_index] = leg;
  tunnel.empty_since.reset();
  legs_[leg] = Leg{it->first, request.conn_index};
  admission.tunnel_id = it->first;
  admission.public_port = tunnel.port;
  (void)now;
  return admission;
}

std::optional<std::uint16_t> TunnelRegistry::assign_port(const Tunnel& tunnel) const {
  if (tunnel.configured_port) {
    if (ports_in_use_.count(*tunnel.configured_port)) return std::nullopt;
    return tunnel.configured_port;
  }
  for (std::uint32_t p = limits_.ports.first; p <= limits_.ports.last; ++p) {
    bool reserved = ports_in_use_.count(static_cast<std::uint16_t>(p)) > 0;
    for (const auto& [id, t] : tunnels_) reserved = reserved || t.configured_port == p;
    if (!reserved) return static_cast<std::uint16_t>(p);
  }
  return std::nullopt;
}

void TunnelRegistry::remove_leg(LegId leg, sdk::TimePoint now) {
  auto it = legs_.find(leg);
  if (it == legs_.end()) return;
  auto tunnel = tunnels_.find(it->second.tunnel_id);
  if (tunnel != tunnels_.end()) {
    auto slot = tunnel->second.legs.find(it->second.index);
    if (slot != tunnel->second.legs.end() && slot->second == leg) tunnel->second.legs.erase(slot);
    if (tunnel->second.legs.empty()) tunnel->second.empty_since = now;
  }
  legs_.erase(it);
}

void TunnelRegistry::drain_leg(LegId leg) {
  if (auto it = legs_.find(leg); it != legs_.end()) it->second.draining = true;
}

void TunnelRegistry::listener_failed(const std::string& tunnel_id, LegId leg) {
  auto it = tunnels_.find(tunnel_id);
  if (it == tunnels_.end()) return;
  ports_in_use_.erase(it->second.port);
  it->second.port = 0;
  remove_leg(leg, {});
  if (it->second.quick && it->second.legs.empty()) tunnels_.erase(it);
}

std::optional<LegId> TunnelRegistry::open_stream(const std::string& tunnel_id) {
  auto it = tunnels_.find(tunnel_id);
  if (it == tunnels_.end() || it->second.streams >= limits_.max_streams_per_tunnel) return std::nullopt;
  Tunnel& tunnel = it->second;
  std::vector<LegId> live;
  for (const auto& [index, leg] : tunnel.legs)
    if (!legs_.at(leg).draining) live.push_back(leg);
  if (live.empty()) return std::nullopt;
  LegId chosen = live[tunnel.next_leg++ % live.size()];
  ++tunnel.streams;
  return chosen;
}

void TunnelRegistry::close_stream(const std::string& tunnel_id) {
  if (auto it = tunnels_.find(tunnel_id); it != tunnels_.end() && it->second.streams > 0) --it->second.streams;
}

std::vector<std::string> TunnelRegistry::expire(sdk::TimePoint now) {
  std::vector<std::string> gone;
  for (auto it = tunnels_.begin(); it != tunnels_.end();) {
    const Tunnel& t = it->second;
    if (t.quick && t.legs.empty() && t.empty_since && now - *t.empty_since >= limits_.quick_tunnel_ttl) {
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
    if (t.quick && t.legs.empty() && t.empty_since) {
      auto at = *t.empty_since + limits_.quick_tunnel_ttl;
      if (!next || at < *next) next = at;
    }
  return next;
}

std::vector<TunnelRegistry::TunnelView> TunnelRegistry::tunnels() const {
  std::vector<TunnelView> out;
  for (const auto& [id, t] : tunnels_) out.push_back({id, t.port, t.legs.size(), t.streams, t.quick});
  return out;
}

std::size_t TunnelRegistry::active_tunnels() const {
  std::size_t n = 0;
  for (const auto& [id, t] : tunnels_) n += (t.port != 0 || !t.legs.empty()) ? 1 : 0;
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

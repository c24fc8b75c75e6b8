#include "core/edge/edge_reload_plan.hpp"

#include <warren/sdk/time.hpp>

#include <algorithm>
#include <map>

namespace warren::core {

namespace {

std::string text(const std::string& s) { return "\"" + s + "\""; }
std::string text(std::uint32_t n) { return std::to_string(n); }
std::string text(bool b) { return b ? "true" : "false"; }
std::string text(sdk::Duration d) { return sdk::format_duration(d); }
std::string text(const std::filesystem::path& p) { return text(p.string()); }
std::string text(const PortRange& r) { return text(std::to_string(r.first) + "-" + std::to_string(r.last)); }
std::string text(const std::optional<sdk::Endpoint>& e) { return e ? text(e->to_string()) : "(unset)"; }

bool operator==(const PortRange& a, const PortRange& b) { return a.first == b.first && a.last == b.last; }

/// Compares one [edge] key and files a line under `applied` or `restart`.
struct SettingsDiff {
  const EdgeSettings& a;
  const EdgeSettings& b;
  EdgeReloadPlan& plan;

  template <typename T>
  void key(const char* name, T EdgeSettings::*member, bool applies) {
    if (a.*member == b.*member) return;
    auto line = std::string(name) + ": " + text(a.*member) + " -> " + text(b.*member);
    (applies ? plan.settings_applied : plan.needs_restart).push_back(std::move(line));
  }
};

std::string text(TunnelKind kind) { return kind == TunnelKind::udp ? "udp" : "tcp"; }
std::string text(std::uint64_t n) { return std::to_string(n); }

/// Sorts the [[tunnels]] flow keys that differ into `change`: those that
/// apply live, and flow_idle_timeout raised, which needs a restart.
void diff_flows(const udp::FlowSettings& a, const udp::FlowSettings& b, TunnelChange& change) {
  change.live_flows = b;
  enum class Applies { to_live_flows, to_new_flows, after_restart };
  auto key = [&change](const char* name, const auto& x, const auto& y, Applies applies) {
    if (x == y) return;
    auto line = std::string(name) + " " + text(x) + " -> " + text(y);
    if (applies == Applies::after_restart)
      change.flows_restart.push_back(std::move(line));
    else
      change.flows.push_back(line + (applies == Applies::to_live_flows
                                         ? ": applied, to its live flows too"
                                         : ": applied to new flows (live flows stay, none ends for it)"));
  };
  // The connectors' half of a flow ends 5 s after the idle timeout they were told at registration.
  bool idle_applies = b.idle_timeout <= a.idle_timeout;
  if (!idle_applies) change.live_flows.idle_timeout = a.idle_timeout;
  key("flow_idle_timeout", a.idle_timeout, b.idle_timeout, idle_applies ? Applies::to_live_flows : Applies::after_restart);
  key("flow_lifetime", a.max_lifetime, b.max_lifetime, Applies::to_live_flows);
  key("flow_requests", std::uint64_t{a.max_requests}, std::uint64_t{b.max_requests}, Applies::to_live_flows);
  key("flow_responses", std::uint64_t{a.max_responses}, std::uint64_t{b.max_responses}, Applies::to_live_flows);
  // Caps gate the flows that begin (FlowTable::update_settings).
  key("max_flows", std::uint64_t{a.max_flows}, std::uint64_t{b.max_flows}, Applies::to_new_flows);
  key("max_flows_per_source", std::uint64_t{a.max_flows_per_source}, std::uint64_t{b.max_flows_per_source},
      Applies::to_new_flows);
}

bool same_listen(const ListenSection& a, const ListenSection& b) {
  return a.transport.plugin == b.transport.plugin && a.address == b.address &&
         same_values(a.transport.table, b.transport.table);
}

}  // namespace

std::string listen_name(const ListenSection& listen) {
  return listen.transport.plugin + " " + listen.address.to_string();
}

EdgeReloadPlan diff_edge_config(const EdgeConfig& running, const EdgeConfig& fresh) {
  EdgeReloadPlan plan;
  constexpr bool applies = true, restart = false;
  SettingsDiff edge{running.edge, fresh.edge, plan};
  edge.key("id", &EdgeSettings::id, restart);
  edge.key("state_dir", &EdgeSettings::state_dir, restart);
  edge.key("public_host", &EdgeSettings::public_host, restart);
  edge.key("admin", &EdgeSettings::admin, restart);
  edge.key("public_ports", &EdgeSettings::public_ports, applies);
  edge.key("quick_tunnels", &EdgeSettings::quick_tunnels, applies);
  edge.key("max_tunnels", &EdgeSettings::max_tunnels, applies);
  edge.key("max_streams_per_tunnel", &EdgeSettings::max_streams_per_tunnel, applies);
  edge.key("heartbeat_interval", &EdgeSettings::heartbeat_interval, applies);
  edge.key("handshake_timeout", &EdgeSettings::handshake_timeout, applies);
  edge.key("public_idle_timeout", &EdgeSettings::public_idle_timeout, applies);
  edge.key("grace_period", &EdgeSettings::grace_period, applies);
  // Held by the buffer budget and the admission counters, which are made once.
  edge.key("max_stream_buffer_mib", &EdgeSettings::max_stream_buffer_mib, restart);
  edge.key("max_connections_per_source", &EdgeSettings::max_connections_per_source, restart);
  edge.key("max_connection_rate_per_source", &EdgeSettings::max_connection_rate_per_source, restart);
  edge.key("connection_burst_per_source", &EdgeSettings::connection_burst_per_source, restart);
  edge.key("max_streams_total", &EdgeSettings::max_streams_total, restart);
  edge.key("registration_rate_per_source", &EdgeSettings::registration_rate_per_source, restart);
  edge.key("registration_burst_per_source", &EdgeSettings::registration_burst_per_source, restart);
  edge.key("registration_rate_per_tunnel", &EdgeSettings::registration_rate_per_tunnel, restart);
  edge.key("registration_burst_per_tunnel", &EdgeSettings::registration_burst_per_tunnel, restart);
  edge.key("auth_failures_per_source", &EdgeSettings::auth_failures_per_source, restart);
  edge.key("auth_failure_interval", &EdgeSettings::auth_failure_interval, restart);
  edge.key("auth_failures_per_tunnel", &EdgeSettings::auth_failures_per_tunnel, restart);
  // cert and key (paths and contents) are re-read by every reload.

  std::map<std::string, const TunnelEntry*> before;
  for (const auto& t : running.tunnels) before[t.id] = &t;
  for (const auto& t : fresh.tunnels) {
    auto it = before.find(t.id);
    if (it == before.end()) {
      plan.tunnels_added.push_back(t);
      continue;
    }
    const TunnelEntry& old = *it->second;
    before.erase(it);
    TunnelChange change{t};
    change.tokens = old.tokens != t.tokens;
    change.max_replicas = old.max_replicas != t.max_replicas;
    change.public_port = old.public_port != t.public_port;
    change.old_public_port = old.public_port;
    change.old_max_replicas = old.max_replicas;
    change.kind = old.kind != t.kind;
    change.old_kind = old.kind;
    change.old_flows = old.flows;
    change.live_flows = old.flows;  // a kind that changed keeps them all
    // Only a udp tunnel's flow keys mean anything (a tcp one's are its defaults).
    if (old.kind == TunnelKind::udp && t.kind == TunnelKind::udp) diff_flows(old.flows, t.flows, change);
    if (change.tokens || change.max_replicas || change.public_port || change.kind || !change.flows.empty() ||
        !change.flows_restart.empty())
      plan.tunnels_changed.push_back(std::move(change));
  }
  for (const auto& t : running.tunnels)
    if (before.count(t.id)) plan.tunnels_removed.push_back(t.id);

  // A listener is its plugin, address and table: any change is another one.
  std::vector<bool> kept(fresh.listen.size(), false);
  for (std::size_t i = 0; i < running.listen.size(); ++i) {
    bool found = false;
    for (std::size_t j = 0; j < fresh.listen.size() && !found; ++j)
      if (!kept[j] && same_listen(running.listen[i], fresh.listen[j])) found = kept[j] = true;
    if (!found) plan.listeners_removed.push_back(i);
  }
  for (std::size_t j = 0; j < fresh.listen.size(); ++j)
    if (!kept[j]) plan.listeners_added.push_back(j);
  return plan;
}

bool EdgeReloadPlan::empty() const {
  return tunnels_added.empty() && tunnels_removed.empty() && tunnels_changed.empty() && listeners_added.empty() &&
         listeners_removed.empty() && settings_applied.empty() && needs_restart.empty();
}

std::vector<std::string> EdgeReloadPlan::lines() const {
  std::vector<std::string> out;
  for (const auto& s : settings_applied) out.push_back("[edge] " + s + ": applied to what starts from now on");
  for (const auto& t : tunnels_added) out.push_back("tunnel '" + t.id + "' added: connectors may register it now");
  for (const auto& id : tunnels_removed)
    out.push_back("tunnel '" + id +
                  "' removed: no new registrations or public connections; its legs close once their streams end "
                  "or grace_period passes");
  for (const auto& c : tunnels_changed) {
    if (c.tokens)
      out.push_back("tunnel '" + c.entry.id + "': its tokens changed (" + std::to_string(c.entry.tokens.size()) +
                    " accepted now): new registrations are checked against them, registered legs stay");
    if (c.max_replicas)
      out.push_back("tunnel '" + c.entry.id + "': max_replicas " + text(c.old_max_replicas) + " -> " +
                    text(c.entry.max_replicas) + ": counts from the next registration, replicas serving stay");
    for (const auto& f : c.flows) out.push_back("tunnel '" + c.entry.id + "': " + f);
  }
  return out;
}

std::vector<std::string> EdgeReloadPlan::restart_lines() const {
  std::vector<std::string> out;
  for (const auto& s : needs_restart) out.push_back("[edge] " + s + ": needs a restart; the running value stays");
  for (const auto& c : tunnels_changed) {
    if (c.kind)
      out.push_back("tunnel '" + c.entry.id + "': kind " + text(c.old_kind) + " -> " + text(c.entry.kind) +
                    ": needs a restart (its connectors registered for " + text(c.old_kind) +
                    " and its public port is " + text(c.old_kind) + "); it stays " + text(c.old_kind) +
                    (c.old_kind == TunnelKind::udp ? ", with the flow keys it runs with" : ""));
    for (const auto& f : c.flows_restart)
      out.push_back("tunnel '" + c.entry.id + "': " + f +
                    ": needs a restart (connectors learn it when they register, and end their half of a flow 5 s "
                    "after it); the running value stays");
  }
  return out;
}

}  // namespace warren::core

#include "core/connector/config_reload.hpp"

#include <warren/sdk/time.hpp>

#include <algorithm>

namespace warren::core {

namespace {

bool same_table(const sdk::ConfigTable& a, const sdk::ConfigTable& b);

bool same_value(const sdk::ConfigValue& a, const sdk::ConfigValue& b) {
  if (a.value.index() != b.value.index()) return false;
  if (const auto* x = std::get_if<sdk::ConfigValue::Array>(&a.value)) {
    const auto& y = std::get<sdk::ConfigValue::Array>(b.value);
    return std::equal(x->begin(), x->end(), y.begin(), y.end(), same_value);
  }
  if (const auto* x = std::get_if<sdk::ConfigTable>(&a.value))
    return same_table(*x, std::get<sdk::ConfigTable>(b.value));
  if (const auto* x = std::get_if<bool>(&a.value)) return *x == std::get<bool>(b.value);
  if (const auto* x = std::get_if<std::int64_t>(&a.value)) return *x == std::get<std::int64_t>(b.value);
  if (const auto* x = std::get_if<double>(&a.value)) return *x == std::get<double>(b.value);
  return std::get<std::string>(a.value) == std::get<std::string>(b.value);
}

// Keys in any order: a reordered table is the same table.
bool same_table(const sdk::ConfigTable& a, const sdk::ConfigTable& b) {
  if (a.entries.size() != b.entries.size()) return false;
  for (const auto& entry : a.entries) {
    const auto* other = b.find(entry.key);
    if (!other || !same_value(entry.value, *other)) return false;
  }
  return true;
}

bool same_sections(const std::vector<PluginSection>& a, const std::vector<PluginSection>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), same_section);
}

std::string names(const std::vector<PluginSection>& sections) {
  std::string out;
  for (const auto& s : sections) out += (out.empty() ? "" : ", ") + s.plugin;
  return out.empty() ? "none" : out;
}

std::string describe(const PluginSection& from, const PluginSection& to) {
  if (from.plugin != to.plugin) return "plugin '" + from.plugin + "' -> '" + to.plugin + "'";
  return "plugin '" + to.plugin + "', its keys changed";
}

}  // namespace

bool same_section(const PluginSection& a, const PluginSection& b) {
  return a.plugin == b.plugin && same_table(a.table, b.table);
}

ConnectorReloadPlan plan_reload(const ConnectorConfig& running, const ConnectorConfig& next, ReloadCarries carries) {
  ConnectorReloadPlan plan;
  const bool flows = carries == ReloadCarries::flows;
  plan.applied = next;
  auto& applied = plan.applied;
  const auto& was = running.tunnel;
  const auto& now = next.tunnel;

  if (!same_section(running.backend, next.backend)) {
    plan.backend_changed = true;
    plan.changes.push_back("[backend] changed (" + describe(running.backend, next.backend) +
                           (flows ? "): new flows go to the new backend; open flows finish on the old one"
                                  : "): new streams go to the new backend; open streams finish on the old one"));
  }
  if (!same_section(running.discovery, next.discovery)) {
    plan.discovery_changed = true;
    plan.changes.push_back("[discovery] changed (" + describe(running.discovery, next.discovery) +
                           "): the next leg to connect asks it; connected legs keep their edge");
  }
  if (!same_sections(running.policies, next.policies)) {
    plan.policies_changed = true;
    plan.changes.push_back("[[policy]] changed (" + names(running.policies) + " -> " + names(next.policies) +
                           "): applies as legs reconnect");
  }
  if (was.ha_connections != now.ha_connections) {
    plan.changes.push_back("ha_connections " + std::to_string(was.ha_connections) + " -> " +
                           std::to_string(now.ha_connections) +
                           (now.ha_connections < was.ha_connections
                                ? (flows ? ": the extra legs unregister and their flows end (a client's next "
                                           "datagram starts a new flow on a leg that stays)"
                                         : ": the extra legs unregister and their streams drain (up to grace_period)")
                                : ": the new legs start, stagger apart"));
  }
  if (was.stagger != now.stagger)
    plan.changes.push_back("stagger " + sdk::format_duration(was.stagger) + " -> " + sdk::format_duration(now.stagger));
  if (was.grace_period != now.grace_period)
    plan.changes.push_back("grace_period " + sdk::format_duration(was.grace_period) + " -> " +
                           sdk::format_duration(now.grace_period));
  if (running.plugin_dirs != next.plugin_dirs)
    plan.changes.push_back("plugin_dirs changed: plugins were looked up anew");

  // What a registered leg is (identity, credentials, the edge it trusts)
  // cannot change under it: the edge checked them at registration, and a
  // replica's id must stay one while its legs live. A restart applies them.
  auto keep = [&](bool changed, const std::string& what) {
    if (changed) plan.restart_needed.push_back(what + " changed: needs a restart; the running value stays");
  };
  keep(was.id != now.id, "[tunnel] id");
  keep(was.token != now.token, "[tunnel] token");
  keep(was.edge_pins != now.edge_pins || was.edge_ca != now.edge_ca || was.insecure != now.insecure,
       "[tunnel] edge verification (edge_pin, edge_ca, insecure)");
  keep(was.public_port != now.public_port, "[tunnel] public_port");
  keep(was.connector_id != now.connector_id, "[tunnel] connector_id");
  keep(running.admin != next.admin, "[admin] address");
  plan.transports_changed = !same_sections(running.transports, next.transports);
  keep(plan.transports_changed, "[[transport]] (" + names(running.transports) + " -> " + names(next.transports) + ")");
  applied.tunnel.id = was.id;
  applied.tunnel.token = was.token;
  applied.tunnel.edge_pins = was.edge_pins;
  applied.tunnel.edge_ca = was.edge_ca;
  applied.tunnel.insecure = was.insecure;
  applied.tunnel.public_port = was.public_port;
  applied.tunnel.connector_id = was.connector_id;
  applied.admin = running.admin;
  if (plan.transports_changed) applied.transports = running.transports;
  return plan;
}

}  // namespace warren::core

#include "core/config/edge_config.hpp"

#include "core/config/connector_config.hpp"
#include "core/config/edge_schema.hpp"
#include "core/config/state_dir.hpp"
#include "core/protocol/message_rules.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <type_traits>
#include <variant>

namespace warren::core {

std::optional<PortRange> parse_port_range(std::string_view text) {
  auto number = [](std::string_view s) -> std::optional<std::uint16_t> {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || value == 0 || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
  };
  auto dash = text.find('-');
  auto first = number(text.substr(0, dash));
  auto last = dash == std::string_view::npos ? first : number(text.substr(dash + 1));
  if (!first || !last || *last < *first) return std::nullopt;
  return PortRange{*first, *last};
}

namespace {

bool same_value(const sdk::ConfigValue& a, const sdk::ConfigValue& b) {
  if (a.value.index() != b.value.index()) return false;
  if (auto* x = std::get_if<sdk::ConfigValue::Array>(&a.value)) {
    const auto& y = std::get<sdk::ConfigValue::Array>(b.value);
    return std::equal(x->begin(), x->end(), y.begin(), y.end(), same_value);
  }
  if (auto* x = std::get_if<sdk::ConfigTable>(&a.value)) return same_values(*x, std::get<sdk::ConfigTable>(b.value));
  return std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, sdk::ConfigValue::Array> || std::is_same_v<T, sdk::ConfigTable>)
          return false;  // handled above
        else
          return x == std::get<T>(b.value);
      },
      a.value);
}

}  // namespace

bool same_values(const sdk::ConfigTable& a, const sdk::ConfigTable& b) {
  return std::equal(a.entries.begin(), a.entries.end(), b.entries.begin(), b.entries.end(),
                    [](const sdk::ConfigEntry& x, const sdk::ConfigEntry& y) {
                      return x.key == y.key && same_value(x.value, y.value);
                    });
}

namespace {

void convert_edge(const EdgeKeys& keys, const sdk::ConfigTable& table, const std::filesystem::path& file,
                  EdgeSettings& out, sdk::Diagnostics& diagnostics) {
  out.id = keys.id;
  out.public_host = keys.public_host;
  out.quick_tunnels = keys.quick_tunnels;
  out.max_tunnels = keys.max_tunnels;
  out.max_streams_per_tunnel = keys.max_streams_per_tunnel;
  out.max_connections_per_source = keys.max_connections_per_source;
  out.max_connection_rate_per_source = keys.max_connection_rate_per_source;
  out.connection_burst_per_source = keys.connection_burst_per_source;
  out.max_streams_total = keys.max_streams_total;
  out.max_stream_buffer_mib = keys.max_stream_buffer_mib;
  out.public_idle_timeout = keys.public_idle_timeout;
  out.handshake_timeout = keys.handshake_timeout;
  out.heartbeat_interval = keys.heartbeat_interval;
  out.registration_rate_per_source = keys.registration_rate_per_source;
  out.registration_burst_per_source = keys.registration_burst_per_source;
  out.registration_rate_per_tunnel = keys.registration_rate_per_tunnel;
  out.registration_burst_per_tunnel = keys.registration_burst_per_tunnel;
  out.auth_failures_per_source = keys.auth_failures_per_source;
  out.auth_failure_interval = keys.auth_failure_interval;
  out.auth_failures_per_tunnel = keys.auth_failures_per_tunnel;
  out.grace_period = keys.grace_period;

  auto cert = unless_empty(keys.cert);
  auto key = unless_empty(keys.key);
  check_length(table, "id", out.id, protocol::TextLimits::id, diagnostics);
  if (auto state_dir = unless_empty(keys.state_dir))
    out.state_dir = relative_to_config(file, *state_dir);
  else if (auto state = default_state_dir(out.id))
    out.state_dir = *state;
  else if (!cert)
    diagnostics.error(table.where,
                      "[edge] has no cert and key, and no state_dir to keep a self-signed pair in "
                      "($XDG_STATE_HOME and $HOME are unset): set state_dir");
  if (cert) out.cert = relative_to_config(file, *cert);
  if (key) out.key = relative_to_config(file, *key);
  if (out.cert.has_value() != out.key.has_value())
    diagnostics.error(table.where, "[edge] needs both 'cert' and 'key', or neither (for a self-signed pair)");
  for (const auto* path : {&out.cert, &out.key})
    if (*path && !std::filesystem::exists(**path))
      diagnostics.error(table.find(path == &out.cert ? "cert" : "key")->where,
                        "file " + (*path)->string() + " does not exist");
  if (auto range = parse_port_range(keys.public_ports))
    out.public_ports = *range;
  else if (auto* v = table.find("public_ports"))
    diagnostics.error(v->where,
                      "'public_ports' = \"" + keys.public_ports + "\" must be \"FIRST-LAST\", e.g. \"20000-20999\"");
  if (auto admin = unless_empty(keys.admin)) {
    std::string why;
    out.admin = sdk::parse_endpoint(*admin, &why, /*allow_port_zero=*/true);
    if (!out.admin) diagnostics.error(table.find("admin")->where, "'admin' = \"" + *admin + "\": " + why);
  }
}

/// `token`, `token_file` or `tokens` (exactly one of them) into entry.tokens.
void read_tokens(const TunnelEntryKeys& keys, const sdk::ConfigTable& table, const std::filesystem::path& file,
                 TunnelEntry& entry, sdk::Diagnostics& diagnostics) {
  auto token = unless_empty(keys.token);
  auto token_file = unless_empty(keys.token_file);
  const sdk::ConfigValue* list = table.find("tokens");
  std::vector<const char*> given;
  if (token) given.push_back("token");
  if (token_file) given.push_back("token_file");
  if (list && !keys.tokens.empty()) given.push_back("tokens");  // `tokens = []` (the default) lists nothing
  if (given.empty()) {
    diagnostics.error(table.where, "[[tunnels]] '" + entry.id + "' needs a 'token', 'token_file' or 'tokens'");
    return;
  }
  if (given.size() > 1) {
    diagnostics.error(table.find(given[1])->where, std::string("set one of 'token', 'token_file' and 'tokens', not '") +
                                                       given[0] + "' and '" + given[1] + "'");
    return;
  }
  if (token) {
    entry.tokens = {*token};
    check_length(table, "token", token, protocol::TextLimits::secret, diagnostics);
  } else if (token_file) {
    const auto& where = table.find("token_file")->where;
    if (auto t = read_secret_file(relative_to_config(file, *token_file), where, diagnostics)) {
      entry.tokens = {*t};
      check_length(table, "token_file", t, protocol::TextLimits::secret, diagnostics);
    }
  } else {
    const auto* items = std::get_if<sdk::ConfigValue::Array>(&list->value);
    for (std::size_t i = 0; i < keys.tokens.size(); ++i) {
      const auto& where = items && i < items->size() ? (*items)[i].where : list->where;
      const auto& t = keys.tokens[i];
      if (t.empty())
        diagnostics.error(where, "an empty string in 'tokens' would be nobody's secret; remove it");
      else if (t.size() > protocol::TextLimits::secret)
        diagnostics.error(where, "a 'tokens' entry is " + std::to_string(t.size()) +
                                     " bytes long; the control protocol carries at most " +
                                     std::to_string(protocol::TextLimits::secret));
      else if (std::find(entry.tokens.begin(), entry.tokens.end(), t) != entry.tokens.end())
        diagnostics.error(where, "a 'tokens' entry is listed twice");
      else
        entry.tokens.push_back(t);
    }
  }
}

udp::FlowSettings flow_settings_of(const TunnelEntryKeys& keys) {
  udp::FlowSettings flows;
  flows.idle_timeout = keys.flow_idle_timeout;
  flows.max_lifetime = keys.flow_lifetime;
  flows.max_requests = keys.flow_requests;
  flows.max_responses = keys.flow_responses;
  flows.max_flows = keys.max_flows;
  flows.max_flows_per_source = keys.max_flows_per_source;
  flows.open_step = false;  // the edge's "backend" is the tunnel, ready at once
  return flows;
}

void read_tunnels(const sdk::ConfigValue& value, const std::filesystem::path& file, std::vector<TunnelEntry>& out,
                  sdk::Diagnostics& diagnostics) {
  auto* array = std::get_if<sdk::ConfigValue::Array>(&value.value);
  if (!array) {
    diagnostics.error(value.where, "'tunnels' must be an array of tables ([[tunnels]])");
    return;
  }
  std::map<std::string, sdk::SourceLocation> ids;
  std::map<std::int64_t, sdk::SourceLocation> ports;
  for (const auto& item : *array) {
    const sdk::ConfigTable* table = as_table(item, "tunnels", diagnostics);
    if (!table) continue;
    auto keys = tunnel_entry_schema().read(*table, diagnostics);
    if (!keys) continue;
    TunnelEntry entry;
    entry.where = table->where;
    entry.id = keys->id;
    read_tokens(*keys, *table, file, entry, diagnostics);
    check_length(*table, "id", entry.id, protocol::TextLimits::id, diagnostics);
    entry.max_replicas = keys->max_replicas;
    entry.kind = keys->kind;
    entry.flows = flow_settings_of(*keys);
    if (keys->public_port) {
      entry.public_port = keys->public_port;
      if (auto [it, fresh] = ports.emplace(keys->public_port, table->find("public_port")->where); !fresh)
        diagnostics.error(table->find("public_port")->where, "public_port " + std::to_string(keys->public_port) +
                                                                 " is already used by the tunnel at " +
                                                                 it->second.to_string());
    }
    if (!entry.id.empty()) {
      if (auto [it, fresh] = ids.emplace(entry.id, table->where); !fresh)
        diagnostics.error(table->find("id")->where,
                          "tunnel id '" + entry.id + "' is already defined at " + it->second.to_string());
    }
    out.push_back(std::move(entry));
  }
}

}  // namespace

EdgeConfig read_edge_config(const sdk::ConfigTable& root, const std::filesystem::path& file,
                            sdk::Diagnostics& diagnostics) {
  EdgeConfig config;
  config.file = file;
  // [admin] is the connector's table; an edge's admin endpoint is a key of
  // [edge]. Said once, with the line to write, instead of a bare "unknown key".
  const sdk::ConfigTable* checked = &root;
  sdk::ConfigTable without_admin;
  if (auto* admin = root.find("admin")) {
    const auto* table = std::get_if<sdk::ConfigTable>(&admin->value);
    const auto* address = table ? table->find("address") : nullptr;
    const auto* text = address ? std::get_if<std::string>(&address->value) : nullptr;
    diagnostics.error(admin->where,
                      "[admin] is a connector table; an edge serves /metrics from its [edge] table: "
                      "[edge] admin = \"" +
                          (text ? *text : std::string("127.0.0.1:9100")) + "\"");
    without_admin = root;
    std::erase_if(without_admin.entries, [](const sdk::ConfigEntry& e) { return e.key == "admin"; });
    checked = &without_admin;
  }
  if (auto keys = edge_root_schema().read(*checked, diagnostics))
    for (const auto& dir : keys->plugin_dirs) config.plugin_dirs.push_back(relative_to_config(file, dir));

  sdk::ConfigTable empty{{}, root.where, "edge"};
  const sdk::ConfigTable* edge = &empty;
  if (auto* v = root.find("edge")) edge = as_table(*v, "edge", diagnostics);
  if (edge)
    if (auto keys = edge_schema().read(*edge, diagnostics)) convert_edge(*keys, *edge, file, config.edge, diagnostics);

  if (auto* v = root.find("listen")) {
    auto* array = std::get_if<sdk::ConfigValue::Array>(&v->value);
    for (const auto& item : array ? *array : sdk::ConfigValue::Array{})
      if (auto section = read_plugin_section(item, "listen", listen_schema(), diagnostics))
        config.listen.push_back({std::move(section->first), section->second.address});
    if (!array) diagnostics.error(v->where, "'listen' must be an array of tables ([[listen]])");
  } else {
    diagnostics.error(root.where, "missing section [[listen]] (e.g. plugin = \"quic\", address = \"0.0.0.0:7844\")");
  }
  if (auto* v = root.find("tunnels")) read_tunnels(*v, file, config.tunnels, diagnostics);
  if (config.tunnels.empty() && !config.edge.quick_tunnels && diagnostics.ok())
    diagnostics.error(root.where, "the edge serves no tunnels: add [[tunnels]] or set quick_tunnels = true in [edge]");
  return config;
}

}  // namespace warren::core

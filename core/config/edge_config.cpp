#include "core/config/edge_config.hpp"

#include "core/config/connector_config.hpp"
#include "core/config/state_dir.hpp"

#include "core/protocol/message_rules.hpp"

#include <warren/sdk/config_reader.hpp>

#include <charconv>
#include <map>

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

void read_edge_section(const sdk::ConfigTable& table, const std::filesystem::path& file, EdgeSettings& out,
                       sdk::Diagnostics& diagnostics) {
  using namespace std::chrono_literals;
  sdk::ConfigReader r(table, diagnostics);
  out.id = r.string("id", "edge", "this edge's name, reported to connectors as their location").value_or("edge");
  auto cert = r.string("cert", "", "PEM certificate chain; with key. Absent: a self-signed pair in state_dir");
  auto key = r.string("key", "", "PEM private key for cert");
  auto state_dir = r.string("state_dir", "",
                            "where the edge keeps the key pair it makes without cert/key; empty: "
                            "$STATE_DIRECTORY, $XDG_STATE_HOME/warren or ~/.local/state/warren, then /<id>");
  out.public_host = r.string("public_host", "127.0.0.1", "address public listeners bind to").value_or("127.0.0.1");
  auto ports = r.string("public_ports", "20000-20999", "range of ports assigned to tunnels without public_port");
  out.quick_tunnels = r.boolean("quick_tunnels", false, "let connectors register tunnels with no credentials")
                          .value_or(false);
  auto admin = r.string("admin", "", "address for the Prometheus /metrics endpoint; empty: off");
  out.max_tunnels = static_cast<std::uint32_t>(
      r.integer("max_tunnels", 1000, "most tunnels served at once", {.min = 1, .max = 1'000'000}).value_or(1000));
  out.max_streams_per_tunnel = static_cast<std::uint32_t>(
      r.integer("max_streams_per_tunnel", 1000, "most open streams per tunnel", {.min = 1, .max = 1'000'000})
          .value_or(1000));
  auto count = [&](const char* name, std::uint32_t fallback, const char* doc) {
    return static_cast<std::uint32_t>(
        r.integer(name, fallback, doc, {.min = 1, .max = 1'000'000}).value_or(fallback));
  };
  out.max_connections_per_source = count(
      "max_connections_per_source", 256, "most public connections one source (IPv4 address, IPv6 /64) holds at once");
  out.max_connection_rate_per_source =
      count("max_connection_rate_per_source", 100, "new public connections per second one source may open, sustained");
  out.connection_burst_per_source =
      count("connection_burst_per_source", 200, "new public connections one source may open at once, above the rate");
  out.max_streams_total = count("max_streams_total", 10000,
                                "most public connections forwarded at once, all tunnels together (each holds at most "
                                "128 KiB of edge buffers plus its QUIC stream window)");
  out.max_stream_buffer_mib =
      count("max_stream_buffer_mib", 512,
            "MiB that public connections' copy buffers may grow into, all together; past it each keeps 2 x 4 KiB "
            "(slower copying, no more memory)");
  out.public_idle_timeout =
      r.duration("public_idle_timeout", 5min,
                 "close a public connection that moved no byte either way for this long; \"0s\": never",
                 {.min = 0s, .max = 24h})
          .value_or(5min);
  out.handshake_timeout = r.duration("handshake_timeout", 5s, "time a connector has to register",
                                     {.min = 10ms, .max = 5min}).value_or(5s);
  out.heartbeat_interval = r.duration("heartbeat_interval", 500ms, "interval connectors heartbeat at",
                                      {.min = 50ms, .max = 60s}).value_or(500ms);
  r.finish();

  check_length(table, "id", out.id, protocol::TextLimits::id, diagnostics);
  if (state_dir && !state_dir->empty()) out.state_dir = relative_to_config(file, *state_dir);
  else if (auto state = default_state_dir(out.id)) out.state_dir = *state;
  else if (!cert || cert->empty())
    diagnostics.error(table.where, "[edge] has no cert and key, and no state_dir to keep a self-signed pair in "
                                   "($XDG_STATE_HOME and $HOME are unset): set state_dir");
  if (cert && !cert->empty()) out.cert = relative_to_config(file, *cert);
  if (key && !key->empty()) out.key = relative_to_config(file, *key);
  if (out.cert.has_value() != out.key.has_value())
    diagnostics.error(table.where, "[edge] needs both 'cert' and 'key', or neither (for a self-signed pair)");
  for (const auto* path : {&out.cert, &out.key})
    if (*path && !std::filesystem::exists(**path))
      diagnostics.error(table.find(path == &out.cert ? "cert" : "key")->where,
                        "file " + (*path)->string() + " does not exist");
  if (ports) {
    if (auto range = parse_port_range(*ports)) out.public_ports = *range;
    else if (auto* v = table.find("public_ports"))
      diagnostics.error(v->where, "'public_ports' = \"" + *ports + "\" must be \"FIRST-LAST\", e.g. \"20000-20999\"");
  }
  if (admin && !admin->empty()) {
    std::string why;
    out.admin = sdk::parse_endpoint(*admin, &why, /*allow_port_zero=*/true);
    if (!out.admin) diagnostics.error(table.find("admin")->where, "'admin' = \"" + *admin + "\": " + why);
  }
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
    sdk::ConfigReader r(*table, diagnostics);
    TunnelEntry entry;
    entry.where = table->where;
    entry.id = r.string("id", std::nullopt, "the tunnel's id, as in the connector's [tunnel]").value_or("");
    auto token = r.string("token", "", "the tunnel's secret");
    auto token_file = r.string("token_file", "", "a file holding the secret, instead of token");
    auto port = r.integer("public_port", 0, "public port; 0 assigns one from public_ports", {.min = 0, .max = 65535});
    entry.max_replicas = static_cast<std::uint32_t>(
        r.integer("max_replicas", 4,
                  "connector processes (replicas) that may serve this tunnel at once; one more is refused and retries",
                  {.min = 1, .max = 64})
            .value_or(4));
    r.finish();
    if (token && !token->empty()) entry.token = *token;
    if (token_file && !token_file->empty()) {
      if (!entry.token.empty()) diagnostics.error(table->find("token_file")->where, "set 'token' or 'token_file', not both");
      else if (auto t = read_secret_file(relative_to_config(file, *token_file), table->find("token_file")->where,
                                         diagnostics))
        entry.token = *t;
    }
    check_length(*table, "id", entry.id, protocol::TextLimits::id, diagnostics);
    check_length(*table, "token", entry.token, protocol::TextLimits::secret, diagnostics);
    if (entry.token.empty() && !(token_file && !token_file->empty()))
      diagnostics.error(table->where, "[[tunnels]] '" + entry.id + "' needs a 'token' or 'token_file'");
    if (port && *port) {
      entry.public_port = static_cast<std::uint16_t>(*port);
      if (auto [it, fresh] = ports.emplace(*port, table->find("public_port")->where); !fresh)
        diagnostics.error(table->find("public_port")->where,
                          "public_port " + std::to_string(*port) + " is already used by the tunnel at " +
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
  sdk::ConfigReader r(root, diagnostics);
  if (auto dirs = r.string_list("plugin_dirs", std::vector<std::string>{}, "folders searched first for plugins"))
    for (auto& [dir, where] : *dirs) config.plugin_dirs.push_back(relative_to_config(file, dir));
  r.allow("edge");
  r.allow("listen");
  r.allow("tunnels");
  r.finish();

  sdk::ConfigTable empty{{}, root.where, "edge"};
  const sdk::ConfigTable* edge = &empty;
  if (auto* v = root.find("edge")) edge = as_table(*v, "edge", diagnostics);
  if (edge) read_edge_section(*edge, file, config.edge, diagnostics);

  if (auto* v = root.find("listen")) {
    auto* array = std::get_if<sdk::ConfigValue::Array>(&v->value);
    for (const auto& item : array ? *array : sdk::ConfigValue::Array{}) {
      auto section = read_plugin_section(item, "listen", diagnostics, {"address"});
      if (!section) continue;
      const auto& table = std::get<sdk::ConfigTable>(item.value);
      sdk::ConfigReader lr(table, diagnostics);
      lr.allow_rest();  // the transport plugin checks the other keys
      auto address = lr.endpoint("address", std::nullopt, "where this transport listens, host:port (port 0: any)",
                                 /*allow_port_zero=*/true);
      if (address) config.listen.push_back({std::move(*section), *address});
    }
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

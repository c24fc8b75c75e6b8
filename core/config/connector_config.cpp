#include "core/config/connector_config.hpp"

#include "core/protocol/message_rules.hpp"

#include <warren/sdk/config_reader.hpp>

#include <fstream>
#include <sstream>

namespace warren::core {

std::filesystem::path relative_to_config(const std::filesystem::path& config_file, const std::string& path) {
  std::filesystem::path p(path);
  return p.is_absolute() ? p : (config_file.parent_path() / p).lexically_normal();
}

std::optional<std::string> read_secret_file(const std::filesystem::path& file, const sdk::SourceLocation& where,
                                            sdk::Diagnostics& diagnostics) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    diagnostics.error(where, "cannot read '" + file.string() + "'");
    return std::nullopt;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string secret = buffer.str();
  auto first = secret.find_first_not_of(" \t\r\n");
  auto last = secret.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) {
    diagnostics.error(where, "'" + file.string() + "' is empty");
    return std::nullopt;
  }
  return secret.substr(first, last - first + 1);
}

void check_length(const sdk::ConfigTable& table, const std::string& key, const std::optional<std::string>& value,
                  std::size_t limit, sdk::Diagnostics& diagnostics) {
  if (!value || value->size() <= limit) return;
  const sdk::ConfigValue* v = table.find(key);
  diagnostics.error(v ? v->where : table.where, "'" + key + "' is " + std::to_string(value->size()) +
                                                    " bytes long; the control protocol carries at most " +
                                                    std::to_string(limit));
}

namespace {

void read_tunnel(const sdk::ConfigTable& table, const std::filesystem::path& file, TunnelSettings& out,
                 sdk::Diagnostics& diagnostics) {
  using namespace std::chrono_literals;
  sdk::ConfigReader r(table, diagnostics);
  out.id = r.string("id", "", "tunnel id registered at the edge; omit with token for a quick tunnel");
  out.token = r.string("token", "", "the tunnel's secret");
  auto token_file = r.string("token_file", "", "a file holding the secret, instead of token");
  out.ha_connections = static_cast<std::uint32_t>(
      r.integer("ha_connections", 2, "parallel connections (legs) to the edges", {.min = 1, .max = protocol::kMaxLegs}).value_or(2));
  auto pin = r.string("edge_fingerprint", "", "sha256 pin of the edge's certificate (printed by the edge)");
  auto ca = r.string("edge_ca", "", "PEM file of CAs to verify the edge with, instead of a pin");
  out.insecure = r.boolean("insecure", false, "accept any edge certificate (testing only)").value_or(false);
  out.grace_period = r.duration("grace_period", 30s, "how long open streams may drain on shutdown",
                                {.min = 0s, .max = std::chrono::hours(1)}).value_or(30s);
  out.stagger = r.duration("stagger", 1s, "delay between starting legs after the first",
                           {.min = 0s, .max = 60s}).value_or(1s);
  auto port = r.integer("public_port", 0, "public port to ask the edge for; 0 lets the edge choose",
                        {.min = 0, .max = 65535});
  out.connector_id =
      r.string("connector_id", "", "this process's id among the tunnel's replicas; empty: random per run").value_or("");
  r.finish();
  if (auto why = protocol::connector_id_problem(out.connector_id))
    diagnostics.error(table.find("connector_id")->where, "'connector_id' " + *why);

  if (port && *port) out.public_port = static_cast<std::uint16_t>(*port);
  if (out.id && out.id->empty()) out.id.reset();
  if (out.token && out.token->empty()) out.token.reset();
  if (token_file && !token_file->empty()) {
    const sdk::ConfigValue* v = table.find("token_file");
    if (out.token) diagnostics.error(v->where, "set either 'token' or 'token_file', not both");
    else out.token = read_secret_file(relative_to_config(file, *token_file), v->where, diagnostics);
  }
  check_length(table, "id", out.id, protocol::TextLimits::id, diagnostics);
  check_length(table, "token", out.token, protocol::TextLimits::secret, diagnostics);
  if (out.id.has_value() != out.token.has_value())
    diagnostics.error(table.where, out.id ? "[tunnel] has an 'id' but no 'token' or 'token_file'"
                                          : "[tunnel] has a token but no 'id'; omit both for a quick tunnel");

  int ways = 0;
  if (pin && !pin->empty()) {
    ++ways;
    out.edge_pin = sdk::parse_certificate_pin(*pin);
    if (!out.edge_pin)
      diagnostics.error(table.find("edge_fingerprint")->where,
                        "'edge_fingerprint' must be \"sha256:\" followed by 64 hex digits (colons allowed)");
  }
  if (ca && !ca->empty()) {
    ++ways;
    out.edge_ca = relative_to_config(file, *ca);
    if (!std::filesystem::exists(*out.edge_ca))
      diagnostics.error(table.find("edge_ca")->where, "'edge_ca' file " + out.edge_ca->string() + " does not exist");
  }
  if (out.insecure) ++ways;
  if (ways == 0)
    diagnostics.error(table.where,
                      "[tunnel] must say how to trust the edge: edge_fingerprint = \"sha256:…\" (printed by "
                      "`warren edge`), edge_ca = \"ca.pem\", or insecure = true");
  else if (ways > 1)
    diagnostics.error(table.where, "[tunnel] sets more than one of edge_fingerprint, edge_ca and insecure; keep one");
}

}  // namespace

ConnectorConfig read_connector_config(const sdk::ConfigTable& root, const std::filesystem::path& file,
                                                     sdk::Diagnostics& diagnostics) {
  sdk::Diagnostics local;
  ConnectorConfig config;
  config.file = file;
  sdk::ConfigReader r(root, local);
  if (auto dirs = r.string_list("plugin_dirs", std::vector<std::string>{}, "folders searched first for plugins"))
    for (auto& [dir, where] : *dirs) config.plugin_dirs.push_back(relative_to_config(file, dir));
  r.allow("tunnel");
  r.allow("transport");
  r.allow("discovery");
  r.allow("backend");
  r.allow("policy");
  r.finish();

  auto required = [&](const char* key, const char* example) -> const sdk::ConfigValue* {
    const sdk::ConfigValue* v = root.find(key);
    if (!v) local.error(root.where, std::string("missing section ") + example);
    return v;
  };
  if (auto* v = root.find("tunnel")) {
    if (auto* table = as_table(*v, "tunnel", local)) read_tunnel(*table, file, config.tunnel, local);
  } else {
    sdk::ConfigTable empty{{}, root.where, "tunnel"};
    read_tunnel(empty, file, config.tunnel, local);
  }
  if (auto* v = required("transport", "[[transport]] (e.g. plugin = \"quic\")")) {
    config.transports = read_plugin_sections(*v, "transport", local);
    if (config.transports.empty() && local.ok()) local.error(v->where, "[[transport]] needs at least one entry");
  }
  if (auto* v = required("discovery", "[discovery] (e.g. plugin = \"static\", edges = [\"127.0.0.1:7844\"])"))
    if (auto s = read_plugin_section(*v, "discovery", local)) config.discovery = std::move(*s);
  if (auto* v = required("backend", "[backend] (e.g. plugin = \"tcp\", address = \"127.0.0.1:8080\")"))
    if (auto s = read_plugin_section(*v, "backend", local)) config.backend = std::move(*s);
  if (auto* v = root.find("policy")) config.policies = read_plugin_sections(*v, "policy", local);

  diagnostics.append(local);
  return config;
}

}  // namespace warren::core

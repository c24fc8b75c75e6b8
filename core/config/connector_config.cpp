#include "core/config/connector_config.hpp"

#include "core/config/connector_schema.hpp"
#include "core/protocol/message_rules.hpp"

#include <warren/sdk/config_reader.hpp>

#include <boost/asio/ip/address.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace warren::core {

std::filesystem::path relative_to_config(const std::filesystem::path& config_file, const std::string& path) {
  std::filesystem::path p(path);
  return p.is_absolute() ? p : (config_file.parent_path() / p).lexically_normal();
}

std::optional<std::string> read_secret_file(const std::filesystem::path& file, const sdk::SourceLocation& where,
                                            sdk::Diagnostics& diagnostics) {
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    bool readable = (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
    diagnostics.error(where, "token_file '" + file.string() + "' is " +
                                 (readable ? "readable" : "writable or executable") + " by group/others (mode " +
                                 mode + "); run: chmod 600 " + file.string());
    return std::nullopt;
  }
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

std::optional<std::string> unless_empty(std::optional<std::string> value) {
  if (value && value->empty()) value.reset();
  return value;
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

/// The keys of `table` as `schema` declares them, or nullopt after diagnostics.
/// An absent section reads as an empty table at the top of the file.
template <typename Keys>
std::optional<Keys> read_section(const sdk::ConfigTable& root, const std::string& name,
                                 const sdk::ConfigSchema<Keys>& schema, sdk::Diagnostics& diagnostics,
                                 sdk::ConfigTable& table) {
  table = sdk::ConfigTable{{}, root.where, name};
  if (auto* v = root.find(name)) {
    auto* t = as_table(*v, name, diagnostics);
    if (!t) return std::nullopt;
    table = *t;
  }
  return schema.read(table, diagnostics);
}

/// edge_fingerprint's pins, each problem at its own element (one string or an array).
void read_pins(const std::vector<std::string>& texts, const sdk::ConfigValue& value,
               std::vector<sdk::CertificatePin>& out, sdk::Diagnostics& diagnostics) {
  const auto* array = std::get_if<sdk::ConfigValue::Array>(&value.value);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto& where = array && i < array->size() ? (*array)[i].where : value.where;
    auto pin = sdk::parse_certificate_pin(texts[i]);
    if (!pin)  // one string keeps the message it always had; a list names the entry
      diagnostics.error(where, (array ? "'edge_fingerprint' entry \"" + texts[i] + "\"" : "'edge_fingerprint'") +
                                   " must be \"sha256:\" followed by 64 hex digits (colons allowed)");
    else if (std::find(out.begin(), out.end(), *pin) != out.end())
      diagnostics.error(where, "'edge_fingerprint' lists " + sdk::format_certificate_pin(*pin) + " twice");
    else
      out.push_back(*pin);
  }
}

void convert_tunnel(const TunnelKeys& keys, const sdk::ConfigTable& table, const std::filesystem::path& file,
                    TunnelSettings& out, sdk::Diagnostics& diagnostics) {
  out.id = unless_empty(keys.id);
  out.token = unless_empty(keys.token);
  out.ha_connections = keys.ha_connections;
  out.insecure = keys.insecure;
  out.grace_period = keys.grace_period;
  out.stagger = keys.stagger;
  if (keys.public_port) out.public_port = keys.public_port;
  out.connector_id = keys.connector_id;
  auto token_file = unless_empty(keys.token_file);
  if (token_file) {
    const sdk::ConfigValue* v = table.find("token_file");
    if (out.token)
      diagnostics.error(v->where, "set either 'token' or 'token_file', not both");
    else
      out.token = read_secret_file(relative_to_config(file, *token_file), v->where, diagnostics);
  }
  check_length(table, "id", out.id, protocol::TextLimits::id, diagnostics);
  check_length(table, "token", out.token, protocol::TextLimits::secret, diagnostics);
  if (out.id.has_value() != (out.token.has_value() || token_file.has_value()))  // a token_file's own error said why
    diagnostics.error(table.where, out.id ? "[tunnel] has an 'id' but no 'token' or 'token_file'"
                                          : "[tunnel] has a token but no 'id'; omit both for a quick tunnel");

  int ways = 0;
  if (!keys.edge_fingerprint.empty() && !(keys.edge_fingerprint.size() == 1 && keys.edge_fingerprint[0].empty())) {
    ++ways;
    read_pins(keys.edge_fingerprint, *table.find("edge_fingerprint"), out.edge_pins, diagnostics);
  }
  if (auto ca = unless_empty(keys.edge_ca)) {
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
  if (auto keys = connector_root_schema().read(root, local))
    for (const auto& dir : keys->plugin_dirs) config.plugin_dirs.push_back(relative_to_config(file, dir));

  sdk::ConfigTable tunnel;
  if (auto keys = read_section(root, "tunnel", tunnel_schema(), local, tunnel))
    convert_tunnel(*keys, tunnel, file, config.tunnel, local);

  auto required = [&](const char* key, const char* example) -> const sdk::ConfigValue* {
    const sdk::ConfigValue* v = root.find(key);
    if (!v) local.error(root.where, std::string("missing section ") + example);
    return v;
  };
  if (auto* v = required("transport", "[[transport]] (e.g. plugin = \"quic\")")) {
    config.transports = read_plugin_sections(*v, "transport", transport_section_schema(), local);
    if (config.transports.empty() && local.ok()) local.error(v->where, "[[transport]] needs at least one entry");
  }
  if (auto* v = required("discovery", "[discovery] (e.g. plugin = \"static\", edges = [\"127.0.0.1:7844\"])"))
    if (auto s = read_plugin_section(*v, "discovery", discovery_section_schema(), local))
      config.discovery = std::move(s->first);
  if (auto* v = required("backend", "[backend] (e.g. plugin = \"tcp\", address = \"127.0.0.1:8080\")"))
    if (auto s = read_plugin_section(*v, "backend", backend_section_schema(), local))
      config.backend = std::move(s->first);
  if (auto* v = root.find("policy"))
    config.policies = read_plugin_sections(*v, "policy", policy_section_schema(), local);

  sdk::ConfigTable admin;
  if (auto keys = read_section(root, "admin", connector_admin_schema(), local, admin))
    if (auto address = unless_empty(keys->address)) {
      std::string why;
      config.admin = sdk::parse_endpoint(*address, &why, /*allow_port_zero=*/true);
      if (!config.admin) {
        local.error(admin.find("address")->where, "'address' = \"" + *address + "\": " + why);
      } else {
        // The server binds it as it is: refuse here what `connect` would.
        boost::system::error_code ec;
        boost::asio::ip::make_address(config.admin->host, ec);
        if (ec)
          local.error(admin.find("address")->where,
                      "'address' = \"" + *address + "\": the host must be an IP address, e.g. \"127.0.0.1:9101\"");
      }
    }

  diagnostics.append(local);
  return config;
}

}  // namespace warren::core

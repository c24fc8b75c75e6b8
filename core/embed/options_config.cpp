#include "core/embed/options_config.hpp"

#include <cstdio>

namespace warren::embed {

std::string toml_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", u);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

GeneratedConfig generate_config(const TunnelOptions& o) {
  GeneratedConfig config;
  std::uint32_t line = 0;
  auto add = [&](const std::string& text, const std::string& field = "") {
    config.text += text + "\n";
    ++line;
    if (!field.empty()) config.field_of_line[line] = field;
  };
  auto list = [](const std::vector<std::string>& items) {
    std::string out = "[";
    for (const auto& item : items) out += (out.size() > 1 ? ", " : "") + toml_quote(item);
    return out + "]";
  };
  add("[tunnel]");
  if (o.tunnel_id) add("id = " + toml_quote(*o.tunnel_id), "tunnel_id");
  if (o.token) add("token = " + toml_quote(*o.token), "token");
  add("ha_connections = " + std::to_string(o.ha_connections), "ha_connections");
  if (!o.edge_fingerprints.empty()) add("edge_fingerprint = " + list(o.edge_fingerprints), "edge_fingerprints");
  if (!o.edge_ca.empty()) add("edge_ca = " + toml_quote(o.edge_ca), "edge_ca");
  if (o.insecure) add("insecure = true", "insecure");
  add("grace_period = \"" + std::to_string(o.grace_period.count()) + "ms\"", "grace_period");
  if (o.public_port) add("public_port = " + std::to_string(*o.public_port), "public_port");
  for (const auto& transport : o.transports) {
    add("[[transport]]", "transports");
    add("plugin = " + toml_quote(transport), "transports");
  }
  add("[discovery]", "edges");
  add("plugin = \"static\"", "edges");
  add("edges = " + list(o.edges), "edges");
  add("[backend]", "backend");
  add("plugin = \"tcp\"", "backend");
  add("address = " + toml_quote(o.backend), "backend");
  if (o.allow_remote) add("allow_remote = true", "allow_remote");
  if (!o.admin.empty()) {
    add("[admin]", "admin");
    add("address = " + toml_quote(o.admin), "admin");
  }
  return config;
}

std::vector<std::string> check_options(const TunnelOptions& o) {
  std::vector<std::string> problems;
  if (o.edges.empty()) problems.push_back("options.edges: name at least one edge as \"HOST:PORT\"");
  if (o.backend.empty()) problems.push_back("options.backend: say where streams go as \"HOST:PORT\"");
  if (o.tunnel_id.has_value() != o.token.has_value())
    problems.push_back(o.tunnel_id ? "options.token: a tunnel id needs its token (or set neither for a quick tunnel)"
                                   : "options.tunnel_id: a token needs its tunnel id (or set neither for a quick tunnel)");
  if (o.transports.empty()) problems.push_back("options.transports: name at least one transport plugin, e.g. \"quic\"");
  return problems;
}

std::string options_message(const sdk::Diagnostic& diagnostic, const GeneratedConfig& config) {
  auto field = config.field_of_line.find(diagnostic.where.line);
  if (field == config.field_of_line.end()) return "options: " + diagnostic.message;  // about several fields
  return "options." + field->second + ": " + diagnostic.message;
}

}  // namespace warren::embed

namespace warren {

std::string TunnelOptions::to_toml() const { return embed::generate_config(*this).text; }

}  // namespace warren

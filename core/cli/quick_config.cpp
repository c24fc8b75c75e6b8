#include "core/cli/quick_config.hpp"

#include <warren/sdk/certificate_pin.hpp>
#include <warren/sdk/endpoint.hpp>

#include <utility>
#include <vector>

namespace warren::cli {
namespace {

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return out + "\"";
}

// Config words in messages, and what the user of `quick` typed instead.
const std::vector<std::pair<std::string, std::string>> key_to_flag = {
    {"Set allow_remote = true", "Add --allow-remote"},
    {"allow_remote = true", "--allow-remote"},
    {"'edge_fingerprint'", "--fingerprint"},
    {"edge_fingerprint", "--fingerprint"},
    {"'insecure'", "--insecure"},
    {"'edges'", "--edge"},
    {"backend address", "--to"},
};

}  // namespace

std::optional<std::string> check_quick_flags(const QuickOptions& options) {
  for (const auto& [flag, value] : {std::pair<std::string, std::string>{"--edge", options.edge}, {"--to", options.to}}) {
    std::string why;
    if (!sdk::parse_endpoint(value, &why)) return flag + " " + quote(value) + ": " + why + " (write HOST:PORT)";
  }
  if (!options.insecure && !sdk::parse_certificate_pin(options.fingerprint))
    return "--fingerprint " + quote(options.fingerprint) +
           " must be \"sha256:\" followed by 64 hex digits (colons allowed), as `warren edge` prints it";
  return std::nullopt;
}

QuickConfig quick_config(const QuickOptions& options) {
  QuickConfig config;
  std::uint32_t line = 0;
  auto add = [&](const std::string& text, const std::string& flag = "") {
    config.text += text + "\n";
    ++line;
    if (!flag.empty()) config.flag_of_line[line] = flag;
  };
  add("[tunnel]");
  add("ha_connections = 2");
  if (options.insecure) add("insecure = true", "--insecure");
  else add("edge_fingerprint = " + quote(options.fingerprint), "--fingerprint");
  add("grace_period = \"5s\"");
  add("[[transport]]");
  add("plugin = \"quic\"");
  add("[discovery]");
  add("plugin = \"static\"");
  add("edges = [" + quote(options.edge) + "]", "--edge");
  add("[backend]");
  add("plugin = \"tcp\"");
  add("address = " + quote(options.to), "--to");
  if (options.allow_remote) add("allow_remote = true", "--allow-remote");
  add("[[policy]]");
  add("plugin = \"backoff\"");
  add("base = \"500ms\"");
  add("max = \"10s\"");
  return config;
}

std::string quick_message(const sdk::Diagnostic& diagnostic, const QuickConfig& config) {
  std::string message = diagnostic.message;
  for (const auto& [key, flag] : key_to_flag)
    for (auto at = message.find(key); at != std::string::npos; at = message.find(key, at + flag.size()))
      message.replace(at, key.size(), flag);
  auto flag = config.flag_of_line.find(diagnostic.where.line);
  bool named = flag != config.flag_of_line.end() && message.find(flag->second) != std::string::npos;
  if (flag != config.flag_of_line.end() && !named) message = flag->second + ": " + message;
  return "warren quick: " + message;
}

}  // namespace warren::cli

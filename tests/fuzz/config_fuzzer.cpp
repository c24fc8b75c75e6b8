// libFuzzer target: the config loader, TOML text to both schemas. The input
// is parsed as TOML (toml++), then read as an edge config and as a connector
// config (core/config), and every section naming a bundled plugin whose
// schema is built in here (quic, backoff) is read with that schema too.
// Bad input must end in diagnostics, each with a FILE:LINE:COL in this
// file, never a crash, a hang or an exception.
//
// The file lies in a folder that does not exist, so relative token_file,
// cert and ca paths resolve to nothing and the run never depends on the
// machine's files.
#include "core/config/config_file.hpp"
#include "core/config/toml_tree.hpp"
#include "handshake_settings.hpp"
#include "plugins/backoff/backoff.hpp"
#include "quic_settings.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace warren;

constexpr char kFile[] = "/nonexistent-warren-fuzz/fuzz.toml";

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "config fuzz finding: %s\n", what.c_str());
  std::abort();
}

struct QuicKeys {
  quic::QuicSettings flow;
  quic::HandshakeLimits handshake;
};

// The same join of the two QUIC schemas as transports/quic/plugin.cpp.
const sdk::ConfigSchema<QuicKeys>& quic_schema() {
  static const auto schema = sdk::ConfigSchema<QuicKeys>("QUIC")
                                 .include(quic::quic_settings_schema(), &QuicKeys::flow)
                                 .include(quic::handshake_settings_schema(), &QuicKeys::handshake);
  return schema;
}

void read_plugin_table(const core::PluginSection& section, sdk::Diagnostics& diagnostics) {
  if (section.plugin == "quic")
    quic_schema().read(section.table, diagnostics);
  else if (section.plugin == "backoff")
    backoff::backoff_schema().read(section.table, diagnostics);
}

// A diagnostic names this file with a line, or the file alone (line 0) for
// what concerns the file as a whole.
void check_located(const sdk::Diagnostics& diagnostics) {
  for (const auto& d : diagnostics.list()) {
    if (d.message.empty()) finding("a diagnostic without a message");
    if (d.where.file != kFile) finding("a diagnostic not located in the file: " + d.to_string());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  sdk::Diagnostics parse_diagnostics;
  auto root = core::read_toml_text(text, kFile, parse_diagnostics);
  check_located(parse_diagnostics);
  if (!root) {
    if (parse_diagnostics.ok()) finding("TOML refused without a diagnostic");
    return 0;
  }
  try {
    sdk::Diagnostics edge_diagnostics;
    auto edge = core::read_edge_config(*root, kFile, edge_diagnostics);
    for (const auto& listen : edge.listen) read_plugin_table(listen.transport, edge_diagnostics);
    check_located(edge_diagnostics);

    sdk::Diagnostics connector_diagnostics;
    auto connector = core::read_connector_config(*root, kFile, connector_diagnostics);
    for (const auto& transport : connector.transports) read_plugin_table(transport, connector_diagnostics);
    for (const auto& policy : connector.policies) read_plugin_table(policy, connector_diagnostics);
    check_located(connector_diagnostics);
  } catch (const std::exception& e) {
    finding(std::string("an exception left the config reader: ") + e.what());
  }
  return 0;
}

#pragma once
// An edge and a connector as real `warren` processes, each with its config
// in a temporary folder, and the facts they print (ports, pin) parsed out.

#include "background_process.hpp"
#include "loopback_services.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace warren::test {

/// A fresh folder, removed with everything in it.
struct TempDir {
  std::filesystem::path path;
  TempDir();
  ~TempDir();
};

struct EdgeOptions {
  std::string tunnel_id = "web";
  std::string token = "s3cret";
  std::uint16_t listen_port = 0;  ///< 0: any free port
  std::string listen_host = "127.0.0.1";  ///< any loopback address (127.0.0.0/8), for edges at distinct addresses
  std::string id = "edge-test";           ///< [edge] id, which connectors log as the edge they registered with
  bool quick_tunnels = false;
  std::string extra;              ///< more [edge] lines
  std::string public_ports;       ///< "A-B"; empty: one free port
  std::string more_tunnels;       ///< raw TOML after the first [[tunnels]] (its keys first, then more tables)
  std::string token_line;         ///< the first [[tunnels]]'s secret line instead of token = "…", e.g. tokens = […]
  std::string extra_args;         ///< one more argument after the config, e.g. "--log-format=json"
};

class Edge {
 public:
  /// Starts `warren edge` in `dir` and waits until it printed its pin.
  Edge(const std::filesystem::path& dir, EdgeOptions options = {});
  std::uint16_t quic_port() const { return quic_port_; }
  std::uint16_t public_port() const { return public_port_; }
  std::uint16_t admin_port() const { return admin_port_; }
  const std::string& pin() const { return pin_; }
  BackgroundProcess& process() { return *process_; }
  /// The public address printed for `tunnel`, waiting up to `deadline`.
  std::optional<std::string> tunnel_address(const std::string& tunnel, std::chrono::milliseconds deadline);
  /// GET /metrics from the admin port.
  std::string metrics() const;
  /// One sample of metrics(), e.g. "warren_legs" or `name{reason="x"}`; nullopt if absent.
  std::optional<double> metric(const std::string& sample) const;

 private:
  std::unique_ptr<BackgroundProcess> process_;
  std::uint16_t quic_port_ = 0;
  std::uint16_t public_port_ = 0;
  std::uint16_t admin_port_ = 0;
  std::string pin_;
};

struct ConnectorOptions {
  std::string tunnel_id = "web";
  std::string token = "s3cret";
  std::string pin;  ///< "" for insecure
  std::uint16_t edge_port = 0;
  std::uint16_t backend_port = 0;
  unsigned ha_connections = 2;
  std::string extra_args;  ///< e.g. "--no-reconnect"
  std::string grace_period = "2s";
  std::string tunnel_extra;  ///< more [tunnel] lines, e.g. "public_port = 20001"
  bool quick = false;        ///< no id and token: ask the edge for a quick tunnel
  std::string name = "connector";  ///< files NAME.toml and NAME.err, so several can share a folder
  std::string discovery;           ///< the [discovery] table's lines; empty: `static` with 127.0.0.1:edge_port
  std::string transport_extra;     ///< more lines in the quic [[transport]] table, e.g. "max_streams = 8192"
};

class Connector {
 public:
  Connector(const std::filesystem::path& dir, ConnectorOptions options);
  BackgroundProcess& process() { return *process_; }
  /// Waits for "tunnel ID ADDRESS" on stdout.
  bool wait_registered(std::chrono::milliseconds deadline);
  /// The ADDRESS of the first "tunnel ID ADDRESS" line, waiting up to `deadline`.
  std::optional<std::string> wait_address(std::chrono::milliseconds deadline);

 private:
  std::unique_ptr<BackgroundProcess> process_;
  std::string tunnel_id_;
};

/// True once `done()` holds, polling every 50 ms until `deadline` passes.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds deadline);

/// The port of "host:port".
std::uint16_t port_of(const std::string& address);

/// The value of the sample `sample` (its name with labels, exactly as
/// printed) in Prometheus text; nullopt if absent.
std::optional<double> metric_value(const std::string& text, const std::string& sample);

/// `curl` fetching http://127.0.0.1:port/path into `out`; returns curl's exit code.
int curl_to_file(std::uint16_t port, const std::string& path, const std::filesystem::path& out);

/// An echo service behind a fresh edge and a registered connector: the
/// common start of most tests. Throws if the connector does not register.
struct EchoTunnel {
  TempDir dir;
  EchoServer echo;
  Edge edge{dir.path};
  Connector connector{dir.path, {.pin = edge.pin(), .edge_port = edge.quic_port(), .backend_port = echo.port()}};

  EchoTunnel();
  std::uint16_t public_port() const { return edge.public_port(); }
};

}  // namespace warren::test

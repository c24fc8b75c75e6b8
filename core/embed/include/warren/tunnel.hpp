#pragma once
// warren's embedding API: a tunnel run by your program, without a config
// file or a `warren` process. Link `warren::embed` (find_package(warren)).
//
//   warren::TunnelOptions options;
//   options.edges = {"edge.example.net:7844"};
//   options.edge_fingerprints = {"sha256:…"};   // as `warren edge` prints it
//   options.backend = "127.0.0.1:8080";
//   auto tunnel = warren::Tunnel::start(options);  // returns once registered
//   std::cout << tunnel.public_address() << "\n";
//   …
//   tunnel.shutdown(std::chrono::seconds(5));
//
// Threads: start() runs the tunnel on one thread of its own (its own
// io_context); that thread is the only one that runs warren's code and the
// plugins', and no callback of yours ever runs on it. Every member of a
// Tunnel may be called from any thread; metrics() and status() are
// snapshots taken on the tunnel's thread. The library installs no signal
// handler and does not raise the descriptor limit (one socket per stream).
// Logs go to stderr through the process's one warren logger.

#include <warren/sdk/error.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace warren {

/// Why a tunnel did not start or stopped, as `warren connect` tells it by
/// its exit code.
enum class TunnelFailure {
  invalid_options = 2,  ///< the options or the TOML are wrong, a plugin is missing or refused: fix them
  refused = 3,          ///< the edge refused the credentials (auth_failed, tunnel_unknown) or its certificate did not match
  runtime = 1,          ///< anything else: the edge unreachable until the start timeout, a lost run
};

/// The one exception type of this API (besides std::bad_alloc).
/// `code()` is in warren's error category (warren/sdk/error.hpp): decide on
/// it or on `failure()`, never on what() — a sentence for people, which for
/// invalid options holds one "SOURCE:LINE:COL: message" line per problem.
class TunnelError : public std::runtime_error {
 public:
  TunnelError(TunnelFailure failure, sdk::error_code code, const std::string& what)
      : std::runtime_error(what), failure_(failure), code_(code) {}
  TunnelFailure failure() const noexcept { return failure_; }
  const sdk::error_code& code() const noexcept { return code_; }
  /// True when the edge refused these credentials (errc::auth_failed or
  /// errc::tunnel_unknown): retrying with them cannot help.
  bool credentials_refused() const noexcept {
    return code_ == sdk::errc::auth_failed || code_ == sdk::errc::tunnel_unknown;
  }

 private:
  TunnelFailure failure_;
  sdk::error_code code_;
};

/// How start() runs, whatever the tunnel's options.
struct StartOptions {
  /// start() gives up (TunnelFailure::runtime) when no leg registered by then.
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  /// Folders searched for plugins first, before the config's plugin_dirs,
  /// WARREN_PLUGIN_PATH (colon-separated) and the plugins installed with this
  /// library (<libdir>/warren/plugins beside libwarren-embed.so) — as
  /// `warren --plugin-dir` for the CLI.
  std::vector<std::string> plugin_dirs;
  /// "trace", "debug", "info", "warn", "error"; empty: leave it (info).
  /// Process-wide: the logger is shared by every tunnel of the process.
  std::string log_level;
};

/// A tunnel built in code. Each field is a key of tunnel.toml (docs/config.md);
/// to_toml() is the config they make, which start() validates and runs as
/// `warren connect` would. Strings are as in tunnel.toml.
struct TunnelOptions {
  /// Edges as "HOST:PORT" (a name or an IP; IPv6 in brackets), read by the
  /// `static` discovery. At least one.
  std::vector<std::string> edges;
  /// The tunnel's id and its token, both or neither; neither: a quick
  /// tunnel, the edge assigns both (it must allow quick_tunnels).
  std::optional<std::string> tunnel_id;
  std::optional<std::string> token;
  /// How the edge is trusted: any of these pins ("sha256:" + 64 hex digits,
  /// as `warren edge` prints it), or a CA bundle (a PEM file's path), or —
  /// for tests only — insecure. Exactly one of the three ways.
  std::vector<std::string> edge_fingerprints;
  std::string edge_ca;
  bool insecure = false;
  /// Where each stream goes: "HOST:PORT" for the `tcp` backend; loopback
  /// only unless allow_remote.
  std::string backend;
  bool allow_remote = false;
  /// Connections to the edges kept at once (1..16).
  std::uint32_t ha_connections = 2;
  /// Transport plugins in order of preference ("quic", "http2").
  std::vector<std::string> transports = {"quic"};
  /// How long open streams may finish after shutdown() (the edge is told too).
  std::chrono::milliseconds grace_period = std::chrono::seconds(30);
  /// A public port to ask the edge for; unset: the edge picks one.
  std::optional<std::uint16_t> public_port;
  /// "HOST:PORT" to also serve /metrics, /ready and /status over HTTP (the
  /// connector's [admin]); empty: none (metrics() and status() still work).
  std::string admin;
  StartOptions start;

  /// The connector config these options make (the schema of tunnel.toml).
  std::string to_toml() const;
};

/// A running tunnel. Move-only; a moved-from Tunnel may only be destroyed
/// or assigned to. Destroying a running Tunnel is shutdown(grace_period).
class Tunnel {
 public:
  /// Starts the tunnel and returns once a leg registered and the public
  /// address is known. Throws TunnelError: invalid_options (with every
  /// problem found, fields named "options.FIELD"), refused, or runtime
  /// (nothing registered within start.timeout; the last failure is told).
  static Tunnel start(const TunnelOptions& options);
  /// The same from a whole connector config as TOML text (tunnel.toml's
  /// schema: any plugin, policy or table). Relative paths are taken from the
  /// current directory; problems are told as "<string>:LINE:COL: message".
  static Tunnel start_toml(std::string_view toml, const StartOptions& start = {});

  Tunnel(Tunnel&&) noexcept;
  Tunnel& operator=(Tunnel&&) noexcept;
  ~Tunnel();

  /// Where the public reaches the backend: "HOST:PORT" as the edge said it.
  const std::string& public_address() const;
  /// The tunnel's id: the configured one, or the one the edge assigned to a quick tunnel.
  const std::string& tunnel_id() const;
  /// Prometheus text, as the connector's admin serves at /metrics.
  std::string metrics() const;
  /// JSON, as the connector's admin serves at /status.
  std::string status() const;
  /// False once the run ended: after shutdown(), or a fatal refusal (see stop_reason()).
  bool running() const;
  /// Why a run ended on its own (the edge refused the tunnel later, say);
  /// nullopt while running and after a shutdown().
  std::optional<TunnelError> stop_reason() const;
  /// Graceful stop: unregisters every leg so the edge sends no new stream,
  /// lets open streams finish for at most min(grace, grace_period), cuts the
  /// rest, and joins the tunnel's thread. True when no stream was cut. Later
  /// calls return the first answer at once.
  bool shutdown(std::chrono::milliseconds grace);

 private:
  struct Run;
  explicit Tunnel(std::unique_ptr<Run> run);
  std::unique_ptr<Run> run_;
};

}  // namespace warren

// warren::Tunnel: the public handle over a TunnelRun (tunnel_run.hpp). Both
// ways in — options built in code and TOML text — end as one ConnectorConfig
// read by core/config's loader, as `warren connect` reads tunnel.toml.

#include <warren/tunnel.hpp>

#include "core/config/connector_config.hpp"
#include "core/config/toml_tree.hpp"
#include "core/embed/options_config.hpp"
#include "core/embed/tunnel_run.hpp"

namespace warren {

struct Tunnel::Run : embed::TunnelRun {
  using TunnelRun::TunnelRun;
};

namespace {

[[noreturn]] void throw_invalid(const std::string& what) {
  throw TunnelError(TunnelFailure::invalid_options, sdk::make_error_code(sdk::errc::config_invalid), what);
}

std::string joined(const sdk::Diagnostics& diagnostics, const embed::TunnelRun::Describe& describe) {
  std::string out;
  for (const auto& d : diagnostics.list()) out += (out.empty() ? "" : "\n") + describe(d);
  return out;
}

/// The config `text` stands for, read as from a file called `name`; throws
/// TunnelError(invalid_options) with every problem in `describe`'s words.
core::ConnectorConfig read_config(std::string_view text, const std::string& name,
                                  const embed::TunnelRun::Describe& describe) {
  sdk::Diagnostics diagnostics;
  auto root = core::read_toml_text(text, name, diagnostics);
  core::ConnectorConfig config;
  if (root) config = core::read_connector_config(*root, name, diagnostics);
  if (!diagnostics.ok()) throw_invalid(joined(diagnostics, describe));
  return config;
}

}  // namespace

Tunnel Tunnel::start(const TunnelOptions& options) {
  if (auto problems = embed::check_options(options); !problems.empty()) {
    std::string what;
    for (const auto& p : problems) what += (what.empty() ? "" : "\n") + p;
    throw_invalid(what);
  }
  auto generated = embed::generate_config(options);
  embed::TunnelRun::Describe describe = [&generated](const sdk::Diagnostic& d) {
    return embed::options_message(d, generated);
  };
  auto run = std::make_unique<Run>(read_config(generated.text, "<options>", describe), options.start, describe);
  run->start(options.start.timeout);
  return Tunnel(std::move(run));
}

Tunnel Tunnel::start_toml(std::string_view toml, const StartOptions& start) {
  embed::TunnelRun::Describe describe = [](const sdk::Diagnostic& d) { return d.to_string(); };
  auto run = std::make_unique<Run>(read_config(toml, "<string>", describe), start, describe);
  run->start(start.timeout);
  return Tunnel(std::move(run));
}

Tunnel::Tunnel(std::unique_ptr<Run> run) : run_(std::move(run)) {}
Tunnel::Tunnel(Tunnel&&) noexcept = default;

Tunnel& Tunnel::operator=(Tunnel&& other) noexcept {
  if (this != &other) {
    if (run_) run_->shutdown(std::chrono::duration_cast<std::chrono::milliseconds>(run_->grace_period()));
    run_ = std::move(other.run_);
  }
  return *this;
}

Tunnel::~Tunnel() {
  if (run_) run_->shutdown(std::chrono::duration_cast<std::chrono::milliseconds>(run_->grace_period()));
}

const std::string& Tunnel::public_address() const { return run_->public_address(); }
const std::string& Tunnel::tunnel_id() const { return run_->tunnel_id(); }
std::string Tunnel::metrics() const { return run_->snapshot("/metrics"); }
std::string Tunnel::status() const { return run_->snapshot("/status"); }
bool Tunnel::running() const { return run_->running(); }
std::optional<TunnelError> Tunnel::stop_reason() const { return run_->stop_reason(); }
bool Tunnel::shutdown(std::chrono::milliseconds grace) { return run_->shutdown(grace); }

}  // namespace warren

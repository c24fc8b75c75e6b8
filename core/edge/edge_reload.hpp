#pragma once
// What a reload (SIGHUP) of a running edge re-reads: its config file (what
// changes and what needs a restart: edge_reload_plan.hpp), and always its
// certificate and key, so an operator replaces them without a restart;
// connections keep the certificate they began with, new handshakes get the
// new one. Only a new pair is told (a log line, and `pin` when the leaf is new). EdgeServer::reload() and its steps live in edge_reload.cpp.

#include "core/config/edge_config.hpp"
#include "core/tls/edge_identity.hpp"

#include <optional>
#include <string>
#include <vector>

namespace warren::core {

/// What one reload changed, and what it refused (the old value stays).
struct ReloadOutcome {
  bool certificate_replaced = false;  ///< a new pair on disk went to the listeners (one change applied)
  std::size_t changes = 0;          ///< changes the plan named (applied or not)
  std::vector<std::string> errors;  ///< one sentence each, naming the file
  bool ok() const { return errors.empty(); }
};

/// The certificate and key on disk now: [edge] cert and key, or state_dir's
/// pair (never made anew here). nullopt with `error` naming the file when it
/// cannot be read, holds no certificate, or the key does not match it.
std::optional<EdgeIdentity> read_current_identity(const EdgeSettings& settings, std::string& error);

}  // namespace warren::core

#pragma once
// What a SIGHUP's config changes for a running connector: the config that
// runs afterwards (the parts a reload applies taken from the new file, the
// rest kept), and one sentence per change, applied or left for a restart.

#include "core/config/connector_config.hpp"

#include <string>
#include <vector>

namespace warren::core {

struct ConnectorReloadPlan {
  ConnectorConfig applied;                  ///< `next`, with what needs a restart kept from `running`
  std::vector<std::string> changes;         ///< applied, one line each
  std::vector<std::string> restart_needed;  ///< left as they run, one line each
  bool backend_changed = false;
  bool discovery_changed = false;
  bool policies_changed = false;
  bool transports_changed = false;  ///< then new dials keep the running transport objects
};

/// Compares plugin sections by plugin name and table contents (not where
/// they are written: a moved line is no change).
bool same_section(const PluginSection& a, const PluginSection& b);

/// What the new backend carries, for the words: a udp tunnel's backend
/// carries flows, a tcp tunnel's streams.
enum class ReloadCarries { streams, flows };

ConnectorReloadPlan plan_reload(const ConnectorConfig& running, const ConnectorConfig& next,
                                ReloadCarries carries = ReloadCarries::streams);

}  // namespace warren::core

#pragma once
// Every plugin a config names, found, checked and made. `warren check` makes
// them to validate their tables; `edge` and `connect` run them.

#include "core/config/connector_config.hpp"
#include "core/config/edge_config.hpp"
#include "core/plugin/plugin_loader.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <vector>

namespace warren::core {

class PluginLogger;

/// Owns plugin objects and the loggers they were handed. Loggers are
/// declared first so they outlive the objects using them.
class PluginSetBase {
 protected:
  PluginSetBase() = default;
  ~PluginSetBase();
  sdk::PluginContext& context_for(const boost::asio::any_io_executor& executor, sdk::PluginKind kind,
                                  const std::string& name);

 private:
  std::vector<std::unique_ptr<PluginLogger>> loggers_;
  std::vector<std::unique_ptr<sdk::PluginContext>> contexts_;

  template <typename T>
  friend PluginPtr<T> make_plugin(PluginSetBase&, const PluginLoader&, const PluginSection&, sdk::PluginKind,
                                  const boost::asio::any_io_executor&, sdk::Diagnostics&);
};

/// Which plugin plays one policy role for the supervisor.
struct PolicyRole {
  std::string role;              ///< "backoff", "address", "fallback"
  std::string plugin;            ///< the policy plugin's name; empty: built into the supervisor
  bool bundled_default = false;  ///< loaded because no [[policy]] offers the role
};

struct ConnectorPlugins : PluginSetBase {
  std::vector<PluginPtr<sdk::Transport>> transports;
  PluginPtr<sdk::Discovery> discovery;
  PluginPtr<sdk::Backend> backend;
  std::vector<PluginPtr<sdk::Policy>> policies;  ///< the configured ones first, then the defaults
  std::vector<std::string> default_policies;      ///< bundled plugins added for roles no [[policy]] offers
  std::vector<PolicyRole> roles;                  ///< who plays each role, in the supervisor's order; for `check`
};

struct EdgePlugins : PluginSetBase {
  std::vector<PluginPtr<sdk::Transport>> listeners;  ///< one per [[listen]]
};

/// Makes every plugin of `config`; each problem (unknown plugin, refused
/// library, invalid table) becomes a diagnostic at the config's location.
/// A connector needs a backoff, an address and a fallback role: when no
/// [[policy]] offers one, its bundled plugin (`backoff`, `ip-rotation`,
/// `fallback`) is loaded with its defaults, so `check` and `connect` (both
/// call this) accept and refuse the same configs.
std::unique_ptr<ConnectorPlugins> make_connector_plugins(const ConnectorConfig& config, const PluginLoader& loader,
                                                         const boost::asio::any_io_executor& executor,
                                                         sdk::Diagnostics& diagnostics);
std::unique_ptr<EdgePlugins> make_edge_plugins(const EdgeConfig& config, const PluginLoader& loader,
                                               const boost::asio::any_io_executor& executor,
                                               sdk::Diagnostics& diagnostics);

}  // namespace warren::core

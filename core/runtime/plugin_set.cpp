#include "core/runtime/plugin_set.hpp"

#include "core/log/logging.hpp"

namespace warren::core {

PluginSetBase::~PluginSetBase() = default;

sdk::PluginContext& PluginSetBase::context_for(const boost::asio::any_io_executor& executor, sdk::PluginKind kind,
                                               const std::string& name) {
  loggers_.push_back(std::make_unique<PluginLogger>(std::string(sdk::to_string(kind)) + " " + name));
  contexts_.push_back(std::make_unique<sdk::PluginContext>(sdk::PluginContext{executor, *loggers_.back()}));
  return *contexts_.back();
}

template <typename T>
PluginPtr<T> make_plugin(PluginSetBase& set, const PluginLoader& loader, const PluginSection& section,
                         sdk::PluginKind kind, const boost::asio::any_io_executor& executor,
                         sdk::Diagnostics& diagnostics) {
  if (section.plugin.empty()) return {};  // the config reader already reported it
  auto found = loader.find(kind, section.plugin);
  if (auto* why = std::get_if<std::string>(&found)) {
    diagnostics.error(section.plugin_where, *why);
    return {};
  }
  return loader.create<T>(std::get<LoadedPlugin>(found), section.table, set.context_for(executor, kind, section.plugin),
                          diagnostics);
}

std::unique_ptr<ConnectorPlugins> make_connector_plugins(const ConnectorConfig& config, const PluginLoader& loader,
                                                         const boost::asio::any_io_executor& executor,
                                                         sdk::Diagnostics& diagnostics) {
  auto set = std::make_unique<ConnectorPlugins>();
  for (const auto& section : config.transports)
    set->transports.push_back(
        make_plugin<sdk::Transport>(*set, loader, section, sdk::PluginKind::transport, executor, diagnostics));
  set->discovery =
      make_plugin<sdk::Discovery>(*set, loader, config.discovery, sdk::PluginKind::discovery, executor, diagnostics);
  set->backend = make_plugin<sdk::Backend>(*set, loader, config.backend, sdk::PluginKind::backend, executor, diagnostics);
  for (const auto& section : config.policies)
    set->policies.push_back(
        make_plugin<sdk::Policy>(*set, loader, section, sdk::PluginKind::policy, executor, diagnostics));
  return set;
}

std::unique_ptr<EdgePlugins> make_edge_plugins(const EdgeConfig& config, const PluginLoader& loader,
                                               const boost::asio::any_io_executor& executor,
                                               sdk::Diagnostics& diagnostics) {
  auto set = std::make_unique<EdgePlugins>();
  for (const auto& listen : config.listen)
    set->listeners.push_back(
        make_plugin<sdk::Transport>(*set, loader, listen.transport, sdk::PluginKind::transport, executor, diagnostics));
  return set;
}

}  // namespace warren::core

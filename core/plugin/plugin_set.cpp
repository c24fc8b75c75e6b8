#include "core/plugin/plugin_set.hpp"

#include "core/log/logging.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

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
  const auto& plugin = std::get<LoadedPlugin>(found);
  if (plugin.loaded_anew)
    log().info("{} changed on disk since it was loaded: its new objects run the new file; older ones keep the old "
               "library, which stays loaded",
               plugin.file.string());
  return loader.create<T>(plugin, section.table, set.context_for(executor, kind, section.plugin), diagnostics);
}

namespace {

/// A role the connector needs from some policy, and the bundled plugin that
/// plays it when no [[policy]] does (every role has one: the supervisor has
/// no policy of its own).
struct PolicyRoleSpec {
  const char* role;
  const char* bundled_plugin;
  bool (*offered_by)(const sdk::Policy&);
};

constexpr PolicyRoleSpec policy_roles[] = {
    {"backoff", "backoff", [](const sdk::Policy& p) { return p.backoff() != nullptr; }},
    {"address", "ip-rotation", [](const sdk::Policy& p) { return p.address() != nullptr; }},
    {"fallback", "fallback", [](const sdk::Policy& p) { return p.fallback() != nullptr; }},
};

/// Who plays each role: the first policy offering it (the supervisor's rule).
void record_roles(ConnectorPlugins& set, const ConnectorConfig& config) {
  for (const auto& spec : policy_roles) {
    PolicyRole role{spec.role, "", false};
    for (std::size_t i = 0; i < set.policies.size(); ++i) {
      if (!set.policies[i] || !spec.offered_by(*set.policies[i])) continue;
      bool configured = i < config.policies.size();
      role.plugin = configured ? config.policies[i].plugin : set.default_policies.at(i - config.policies.size());
      role.bundled_default = !configured;
      break;
    }
    set.roles.push_back(std::move(role));
  }
}

/// Adds the bundled plugin for every role no configured policy offers, made
/// from an empty table (its defaults), after the configured ones.
void add_default_policies(ConnectorPlugins& set, const ConnectorConfig& config, const PluginLoader& loader,
                          const boost::asio::any_io_executor& executor, sdk::Diagnostics& diagnostics) {
  for (const auto& p : set.policies)
    if (!p) return;  // a configured policy failed: its roles are unknown, and the error is reported
  for (const auto& role : policy_roles) {
    if (!role.bundled_plugin) continue;
    bool offered = std::any_of(set.policies.begin(), set.policies.end(),
                               [&](const PluginPtr<sdk::Policy>& p) { return role.offered_by(*p); });
    if (offered) continue;
    PluginSection section;
    section.plugin = role.bundled_plugin;
    section.plugin_where = {config.file.string(), 0, 0};
    section.table.where = section.plugin_where;
    section.table.path = "policy";
    sdk::Diagnostics own;
    auto policy = make_plugin<sdk::Policy>(set, loader, section, sdk::PluginKind::policy, executor, own);
    if (!policy || !role.offered_by(*policy)) {
      std::string why = own.ok() ? "it does not offer the role" : own.list().front().message;
      diagnostics.error(section.plugin_where, "no [[policy]] offers a " + std::string(role.role) +
                                                  " role, and the bundled '" + role.bundled_plugin +
                                                  "' policy that provides it could not be used: " + why);
      continue;
    }
    set.policies.push_back(std::move(policy));
    set.default_policies.push_back(role.bundled_plugin);
  }
}

}  // namespace

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
  add_default_policies(*set, config, loader, executor, diagnostics);
  record_roles(*set, config);
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

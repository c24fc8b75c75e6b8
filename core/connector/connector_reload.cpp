// ConnectorShell::reload: a SIGHUP's new config and plugin objects. The
// decisions about legs are the supervisor's (handle_settings); the shell
// swaps which objects new work uses and lets the old ones go as the streams
// and connections holding them end.

#include "core/connector/config_reload.hpp"
#include "core/connector/connector_shell.hpp"
#include "core/connector/supervisor_settings.hpp"
#include "core/log/logging.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace warren::core {

namespace {

template <typename Role, typename Get>
const Role* first_role(ConnectorPlugins& plugins, Get get) {
  for (auto& p : plugins.policies)
    if (p && get(*p)) return get(*p);
  return nullptr;
}

}  // namespace

// A superseded backend goes with its last stream, not with the legs that
// still hold its set for their transports: a group backend's health checks
// would otherwise run on after a reload replaced it. The lease owns the set
// (the backend's library references and the logger it was handed); its end
// destroys the backend on a later turn of the loop, as released_later does.
std::shared_ptr<sdk::Backend> ConnectorShell::lease_backend(std::shared_ptr<ConnectorPlugins> set) {
  auto* backend = set->backend.get();
  return std::shared_ptr<sdk::Backend>(backend, [set = std::move(set), &io = io_](sdk::Backend*) mutable {
    auto drop = [set = std::move(set)] { set->backend.reset(); };
    if (io.stopped()) return drop();
    boost::asio::post(io, std::move(drop));
  });
}

// The last user of a set may let go while the set's own code is on the
// stack (a splice ends inside the backend stream's completion, a leg inside
// its transport's): releasing it there could unload the library under that
// code. The release waits for the next turn of the loop instead.
std::shared_ptr<ConnectorPlugins> ConnectorShell::released_later(std::shared_ptr<ConnectorPlugins> set) {
  auto* raw = set.get();
  return std::shared_ptr<ConnectorPlugins>(raw, [set = std::move(set), &io = io_](ConnectorPlugins*) mutable {
    if (io.stopped()) return;  // the run is over: released right here, with the deleter
    boost::asio::post(io, [last = std::move(set)] {});
  });
}

bool ConnectorShell::reload(const ConnectorConfig& next, std::shared_ptr<ConnectorPlugins> plugins) {
  if (exit_code_ || supervisor_->finished()) return false;
  // The words follow what the new backend carries: a udp backend's are flows.
  auto carries = plugins->backend && plugins->backend->carries() == sdk::Backend::Carries::datagrams
                     ? ReloadCarries::flows
                     : ReloadCarries::streams;
  auto plan = plan_reload(config_, next, carries);
  const auto* backoff = first_role<sdk::BackoffPolicy>(*plugins, [](sdk::Policy& p) { return p.backoff(); });
  const auto* address = first_role<sdk::AddressPolicy>(*plugins, [](sdk::Policy& p) { return p.address(); });
  const auto* fallback = first_role<sdk::FallbackPolicy>(*plugins, [](sdk::Policy& p) { return p.fallback(); });
  try {
    if (!backoff) throw std::invalid_argument("no [[policy]] offers a backoff role");
    supervisor_->handle_settings(sdk::Clock::now(), supervisor_config(plan.applied, options_.no_reconnect), *backoff,
                                 address, fallback, plan.discovery_changed);
  } catch (const std::exception& e) {
    log().error("reload of {} refused: {}; the running config stays", next.file.string(), e.what());
    return false;
  }
  // From here the supervisor uses the new policies: the new set is current.
  config_ = std::move(plan.applied);
  plugins_ = released_later(std::move(plugins));
  backend_ = lease_backend(plugins_);
  if (!plan.transports_changed) transports_ = plugins_;  // new dials use the objects just made
  legs_.resize(std::max(legs_.size(), supervisor_->legs().size()));
  for (const auto& line : plan.changes) log().info("reload: {}", line);
  for (const auto& line : plan.restart_needed) log().warn("reload: {}", line);
  pump();  // what the supervisor does about it (a leg unregistering) is said before the summary
  log().info("reloaded {}: {} change(s) applied, {} left for a restart; plugin objects made anew",
             config_.file.string(), plan.changes.size(), plan.restart_needed.size());
  return true;
}

}  // namespace warren::core

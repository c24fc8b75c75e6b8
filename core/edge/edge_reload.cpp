#include "core/edge/edge_reload.hpp"

#include "core/edge/edge_leg.hpp"
#include "core/edge/edge_server.hpp"
#include "core/log/logging.hpp"

#include <warren/sdk/tls_verification.hpp>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace warren::core {

std::optional<EdgeIdentity> read_current_identity(const EdgeSettings& settings, std::string& error) {
  auto cert = settings.cert ? *settings.cert : settings.state_dir / "edge.crt";
  auto key = settings.key ? *settings.key : settings.state_dir / "edge.key";
  EdgeIdentity identity;
  try {
    identity = load_identity(cert, key);
  } catch (const std::exception& e) {
    error = e.what();
    return std::nullopt;
  }
  // GnuTLS checks that the key belongs to the certificate (and parses both)
  // exactly as a listener will; a refused pair never reaches one.
  std::string why;
  if (!sdk::tls::Credentials::server(identity.cert_pem, identity.key_pem, why)) {
    error = cert.string() + " with " + key.string() + ": " + why;
    return std::nullopt;
  }
  return identity;
}

ReloadOutcome EdgeServer::reload(const EdgeConfig& fresh, std::unique_ptr<EdgePlugins> plugins) {
  ReloadOutcome outcome;
  auto plan = diff_edge_config(config_, fresh);
  for (const auto& line : plan.lines()) log().info("reload: {}", line);
  auto restart = plan.restart_lines();
  for (const auto& line : restart) log().warn("reload: {}", line);
  reload_settings(fresh, plan);
  reload_certificate(outcome);
  for (const auto& id : plan.tunnels_removed) remove_tunnel(id);
  for (const auto& tunnel : plan.tunnels_added) add_tunnel(tunnel, outcome);
  std::vector<const TunnelChange*> port_kept;
  std::size_t ports_moved = 0;
  for (const auto& change : plan.tunnels_changed) {
    if (!registry_.update_tunnel(change.entry)) continue;
    if (!change.public_port) continue;
    if (move_public_port(change, outcome))
      ++ports_moved;
    else
      port_kept.push_back(&change);
  }
  config_.tunnels = fresh.tunnels;
  // A public_port that needs a restart stays what runs: the next reload names it again.
  for (const auto* change : port_kept)
    for (auto& t : config_.tunnels)
      if (t.id == change->entry.id) t.public_port = change->old_public_port;
  // A kind stays; the flow keys run as the plan says (a raised
  // flow_idle_timeout stays), for registrations and the live flow table.
  for (const auto& change : plan.tunnels_changed)
    for (auto& t : config_.tunnels)
      if (t.id == change.entry.id) {
        t.kind = change.old_kind;
        t.flows = change.live_flows;
        if (change.flows.empty()) continue;
        auto udp = udp_tunnels_.find(t.id);
        if (udp == udp_tunnels_.end()) continue;  // no public port yet: it opens with these
        try {
          udp->second->update_settings(t.flows);
        } catch (const std::invalid_argument& e) {
          // The schema checks the same bounds; this guards against the two parting.
          outcome.errors.push_back("tunnel '" + t.id + "': " + e.what() + "; its flows keep their limits");
          log().error("reload: {}", outcome.errors.back());
        }
      }
  // From the last, so the indexes of those before stay valid.
  for (auto i = plan.listeners_removed.rbegin(); i != plan.listeners_removed.rend(); ++i) remove_listener(*i);
  bool used = false;
  for (auto index : plan.listeners_added)
    used = add_listener(fresh.listen[index], *plugins->listeners[index], outcome) || used;
  if (used) reload_plugins_.push_back(std::move(plugins));
  // What runs: a listener that did not open is tried again by the next reload.
  config_.listen = listening_;
  auto applied = plan.lines().size() + plan.listeners_added.size() + plan.listeners_removed.size() + ports_moved +
                 (outcome.certificate_replaced ? 1 : 0);
  auto left = restart.size() + port_kept.size();
  outcome.changes = applied + left;
  // The connector's summary line has the same shape.
  log().info("reload of {} done: {} change(s) applied, {} left for a restart{}", fresh.file.string(), applied, left,
             outcome.ok() ? "" : "; " + std::to_string(outcome.errors.size()) + " not applied (see above)");
  return outcome;
}

void EdgeServer::reload_settings(const EdgeConfig& fresh, const EdgeReloadPlan& plan) {
  (void)plan;
  EdgeSettings next = fresh.edge;
  // Keys that need a restart keep their running values (diff_edge_config
  // named them); the rest is read where it is used, for what starts later.
  const EdgeSettings& now = config_.edge;
  next.id = now.id;
  next.state_dir = now.state_dir;
  next.public_host = now.public_host;
  next.admin = now.admin;
  next.max_stream_buffer_mib = now.max_stream_buffer_mib;
  next.max_connections_per_source = now.max_connections_per_source;
  next.max_connection_rate_per_source = now.max_connection_rate_per_source;
  next.connection_burst_per_source = now.connection_burst_per_source;
  next.max_streams_total = now.max_streams_total;
  next.registration_rate_per_source = now.registration_rate_per_source;
  next.registration_burst_per_source = now.registration_burst_per_source;
  next.registration_rate_per_tunnel = now.registration_rate_per_tunnel;
  next.registration_burst_per_tunnel = now.registration_burst_per_tunnel;
  next.auth_failures_per_source = now.auth_failures_per_source;
  next.auth_failure_interval = now.auth_failure_interval;
  next.auth_failures_per_tunnel = now.auth_failures_per_tunnel;
  config_.edge = std::move(next);
  config_.plugin_dirs = fresh.plugin_dirs;
  registry_.set_limits(registry_limits_of(config_));
}

void EdgeServer::drain_legs(const std::vector<LegId>& ids) {
  // Collected first: a leg with no stream open ends inside drain(), which
  // erases it from legs_.
  std::vector<std::shared_ptr<EdgeLeg>> legs;
  for (auto id : ids)
    if (auto it = legs_.find(id); it != legs_.end()) legs.push_back(it->second);
  // The registry stops choosing them and frees their slots, so their
  // connectors' reconnections register beside them (a removed tunnel's are
  // in no tunnel already).
  for (auto id : ids) {
    replica_left(registry_.drain_leg(id, sdk::Clock::now()), "drained by a reload");
    udp_leg_draining(id);
  }
  for (auto& leg : legs) leg->drain(config_.edge.grace_period);
}

void EdgeServer::remove_tunnel(const std::string& id) {
  bool had_port = false;
  for (const auto& t : registry_.tunnels()) had_port = had_port || (t.id == id && t.public_port != 0);
  if (close_public_port(id) && had_port) --metrics_.tunnels;
  auto legs = registry_.remove_tunnel(id);
  if (!legs.empty())
    log().info("tunnel '{}': draining {} leg(s) for up to {}", id, legs.size(),
               sdk::format_duration(config_.edge.grace_period));
  drain_legs(legs);
}

void EdgeServer::add_tunnel(const TunnelEntry& tunnel, ReloadOutcome& outcome) {
  if (!registry_.add_tunnel(tunnel)) {
    outcome.errors.push_back("tunnel '" + tunnel.id +
                             "' cannot be added: a quick tunnel has that id; restart the edge");
    log().error("{}", outcome.errors.back());
    return;
  }
  if (!tunnel.public_port) return;
  try {
    open_fixed_public_port(tunnel, *tunnel.public_port);
  } catch (const std::exception& e) {
    // The registration tries again, and is refused with port_in_use meanwhile.
    outcome.errors.push_back(e.what() + std::string("; its connectors are refused until it is free"));
    log().error("{}", outcome.errors.back());
  }
}

bool EdgeServer::move_public_port(const TunnelChange& change, ReloadOutcome& outcome) {
  const auto& id = change.entry.id;
  auto open = public_port_of(id);
  bool registered = false;
  for (const auto& t : registry_.tunnels()) registered = registered || (t.id == id && t.public_port != 0);
  auto was = change.old_public_port ? std::to_string(*change.old_public_port) : std::string("(assigned)");
  auto next = change.entry.public_port ? std::to_string(*change.entry.public_port) : std::string("(assigned)");
  if (registered) {
    log().warn(
        "reload: tunnel '{}': public_port {} -> {} needs a restart: its connectors were told the address "
        "they serve; it stays on {}",
        id, was, next, open ? std::to_string(*open) : was);
    return false;
  }
  // No leg has registered: nobody was told the old port.
  close_public_port(id);
  log().info("reload: tunnel '{}': public_port {} -> {}: applied (no connector had registered it)", id, was, next);
  if (!change.entry.public_port) return true;
  // Its kind stays the running one, its flow keys what the plan says runs.
  TunnelEntry moved = change.entry;
  moved.kind = change.old_kind;
  moved.flows = change.live_flows;
  try {
    open_fixed_public_port(moved, *change.entry.public_port);
  } catch (const std::exception& e) {
    outcome.errors.push_back(e.what() + std::string("; its connectors are refused until it is free"));
    log().error("{}", outcome.errors.back());
  }
  return true;
}

void EdgeServer::remove_listener(std::size_t index) {
  auto listener = std::move(listeners_[index]);
  auto listen = listening_[index];
  listeners_.erase(listeners_.begin() + static_cast<std::ptrdiff_t>(index));
  listening_.erase(listening_.begin() + static_cast<std::ptrdiff_t>(index));
  // Stops accepting; the connections it accepted live on until drained.
  listener->close();
  std::vector<LegId> legs;
  for (const auto& [leg, via] : leg_listener_)
    if (via == listener.get()) legs.push_back(leg);
  log().info("reload: [[listen]] {} removed: stopped accepting; draining its {} connection(s) for up to {}",
             listen_name(listen), legs.size(), sdk::format_duration(config_.edge.grace_period));
  retired_listeners_.push_back(std::move(listener));
  drain_legs(legs);
  free_retired_listeners();
}

bool EdgeServer::add_listener(const ListenSection& listen, sdk::Transport& transport, ReloadOutcome& outcome) {
  try {
    listeners_.push_back(open_listener(listen, transport));
  } catch (const std::exception& e) {
    outcome.errors.push_back(std::string("[[listen]] ") + listen_name(listen) + " not started: " + e.what());
    log().error("reload: {}", outcome.errors.back());
    return false;
  }
  listening_.push_back(listen);
  log().info("reload: [[listen]] {} added: listening on port {}", listen_name(listen), listeners_.back()->local_port());
  accept_next(listeners_.back().get());
  return true;
}

void EdgeServer::free_retired_listeners() {
  std::vector<sdk::ListenerPtr> idle;
  for (auto it = retired_listeners_.begin(); it != retired_listeners_.end();) {
    bool used = false;
    for (const auto& [leg, via] : leg_listener_) used = used || via == it->get();
    if (used) {
      ++it;
    } else {
      idle.push_back(std::move(*it));
      it = retired_listeners_.erase(it);
    }
  }
  // Freed from the loop, not from inside a call its connection may be
  // making; a member, so a listener never outlives its plugin's library.
  if (idle.empty()) return;
  for (auto& l : idle) freed_listeners_.push_back(std::move(l));
  boost::asio::post(io_, [this] {
    if (!stopped_) freed_listeners_.clear();
  });
}

void EdgeServer::reload_certificate(ReloadOutcome& outcome) {
  std::string error;
  auto fresh = read_current_identity(config_.edge, error);
  if (!fresh) {
    outcome.errors.push_back("cannot reload the certificate: " + error + "; keeping " +
                             sdk::format_certificate_pin(identity_.pin));
    log().error("{}", outcome.errors.back());
    return;
  }
  // Every SIGHUP reads the pair; only a new one is news (and a new `pin` line).
  if (fresh->cert_pem == identity_.cert_pem && fresh->key_pem == identity_.key_pem) {
    log().debug("certificate unchanged: {} (pin {})", fresh->cert_file.string(),
                sdk::format_certificate_pin(identity_.pin));
    return;
  }
  std::size_t replaced = 0;
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    std::string why;
    if (listeners_[i]->replace_certificate(fresh->cert_pem, fresh->key_pem, why)) {
      ++replaced;
      continue;
    }
    outcome.errors.push_back("the " + listen_name(listening_[i]) + " listener keeps its certificate: " + why);
    log().error("{}", outcome.errors.back());
  }
  if (replaced == 0 && !listeners_.empty()) return;
  outcome.certificate_replaced = true;
  bool new_pin = fresh->pin != identity_.pin;
  if (new_pin)
    log().info("certificate reloaded from {}: pin {} (was {}); connections keep the one they began with",
               fresh->cert_file.string(), sdk::format_certificate_pin(fresh->pin),
               sdk::format_certificate_pin(identity_.pin));
  else  // the same leaf with another chain or key file: pinned connectors see no change
    log().info("certificate reloaded from {}: the same leaf certificate, pin {} unchanged", fresh->cert_file.string(),
               sdk::format_certificate_pin(fresh->pin));
  identity_ = std::move(*fresh);
  if (new_pin) announce_("pin " + sdk::format_certificate_pin(identity_.pin));
}

}  // namespace warren::core

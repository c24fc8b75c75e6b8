#include "core/edge/edge_server.hpp"

#include "core/edge/edge_leg.hpp"
#include "core/edge/port_holder.hpp"
#include "core/edge/public_listener.hpp"
#include "core/log/logging.hpp"

#include <warren/sdk/endpoint.hpp>
#include <warren/sdk/socket_stream.hpp>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <cctype>

namespace warren::core {

using boost::asio::ip::tcp;

namespace {

PublicLimits public_limits_of(const EdgeConfig& config) {
  PublicLimits limits;
  limits.max_connections_per_source = config.edge.max_connections_per_source;
  limits.max_connection_rate_per_source = config.edge.max_connection_rate_per_source;
  limits.connection_burst_per_source = config.edge.connection_burst_per_source;
  limits.max_streams_per_tunnel = config.edge.max_streams_per_tunnel;
  limits.max_streams_total = config.edge.max_streams_total;
  return limits;
}

RegistrationLimits registration_limits_of(const EdgeConfig& config) {
  RegistrationLimits limits;
  limits.rate_per_source = config.edge.registration_rate_per_source;
  limits.burst_per_source = config.edge.registration_burst_per_source;
  limits.rate_per_tunnel = config.edge.registration_rate_per_tunnel;
  limits.burst_per_tunnel = config.edge.registration_burst_per_tunnel;
  limits.auth_failures_per_source = config.edge.auth_failures_per_source;
  limits.auth_failure_interval = config.edge.auth_failure_interval;
  limits.auth_failures_per_tunnel = config.edge.auth_failures_per_tunnel;
  return limits;
}

// Wrong credentials: a tunnel id and token the edge does not accept, or a
// quick tunnel's id and token that do not match.
bool credentials_refused(const protocol::Rejected& rejected) {
  return rejected.code == sdk::errc::auth_failed || rejected.code == sdk::errc::tunnel_unknown;
}

boost::asio::ip::address resolve_literal(const std::string& host, const char* what) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) throw std::runtime_error(std::string(what) + " '" + host + "' must be an IP address");
  return address;
}

std::string endpoint_text(const boost::asio::ip::address& address, std::uint16_t port) {
  return sdk::format_host_port(address.to_string(), port);
}

// "quic" -> "QUIC": how a transport is named in a sentence.
std::string transport_name(const std::string& plugin) {
  std::string out = plugin;
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// A label value in the Prometheus text format: backslash, quote and newline escaped.
std::string label_value(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"' || c == '\n') out += '\\';
    out += c == '\n' ? 'n' : c;
  }
  return out;
}

std::string replica_name(const std::string& connector_id) {
  return connector_id.empty() ? std::string("(a connector without an id)") : connector_id;
}

// QUIC rides on UDP; any other listener transport is taken to be TCP.
PortKind port_kind(const std::string& plugin) { return plugin == "quic" ? PortKind::udp : PortKind::tcp; }

}  // namespace

EdgeServer::EdgeServer(boost::asio::io_context& io, const EdgeConfig& config, EdgePlugins& plugins,
                       EdgeIdentity identity, std::function<void(const std::string&)> announce)
    : io_(io),
      config_(config),
      plugins_(plugins),
      identity_(std::move(identity)),
      announce_(std::move(announce)),
      registry_(registry_limits_of(config), config.tunnels),
      expiry_timer_(io),
      admission_(public_limits_of(config)),
      registration_admission_(registration_limits_of(config)),
      buffer_budget_(std::make_shared<BufferBudget>(std::size_t{config.edge.max_stream_buffer_mib} << 20)) {}

EdgeServer::~EdgeServer() { stop(); }

sdk::ListenerPtr EdgeServer::open_listener(const ListenSection& listen, sdk::Transport& transport) {
  sdk::ListenOptions options;
  options.address = resolve_literal(listen.address.host, "listen address");
  options.port = listen.address.port;
  options.cert_pem = identity_.cert_pem;
  options.key_pem = identity_.key_pem;
  options.handshake_timeout = config_.edge.handshake_timeout;
  options.state_dir = config_.edge.state_dir.string();
  sdk::error_code ec;
  auto listener = transport.listen(options, ec);
  if (!listener && (ec == sdk::errc::port_in_use || ec == boost::asio::error::address_in_use))
    throw std::runtime_error("the edge's " + transport_name(listen.transport.plugin) + " listen address " +
                             endpoint_text(options.address, options.port) + " is " +
                             describe_port_holder(port_kind(listen.transport.plugin), options.port));
  if (!listener)
    throw std::runtime_error("the edge cannot listen with " + listen.transport.plugin + " on " +
                             listen.address.to_string() + ": " + ec.message());
  announce_("listen " + listen.transport.plugin + " " + endpoint_text(options.address, listener->local_port()));
  return listener;
}

void EdgeServer::start() {
  for (std::size_t i = 0; i < config_.listen.size(); ++i) {
    listeners_.push_back(open_listener(config_.listen[i], *plugins_.listeners[i]));
    listening_.push_back(config_.listen[i]);
    accept_next(listeners_.back().get());
  }
  start_admin();
  open_fixed_public_ports();
  announce_("pin " + sdk::format_certificate_pin(identity_.pin));
}

// A server owns its ports: every [[tunnels]] public_port is bound now, so a
// taken one stops the edge at start with a sentence instead of refusing its
// connector every few seconds. Until a leg registers, a client that connects
// is reset at once (no live leg), as when every leg is gone.
void EdgeServer::open_fixed_public_ports() {
  for (const auto& tunnel : config_.tunnels)
    if (tunnel.public_port) open_fixed_public_port(tunnel, *tunnel.public_port);
}

boost::asio::ip::address EdgeServer::resolve_public_host() const {
  return resolve_literal(config_.edge.public_host, "public_host");
}

void EdgeServer::open_fixed_public_port(const TunnelEntry& tunnel, std::uint16_t port) {
  auto address = resolve_public_host();
  const auto& tunnel_id = tunnel.id;
  bool udp = tunnel.kind == TunnelKind::udp;
  const char* kind = udp ? "public UDP port " : "public port ";
  try {
    if (udp)
      open_udp_port(tunnel, port);
    else
      open_public_listener(tunnel_id, tcp::endpoint(address, port));
  } catch (const boost::system::system_error& e) {
    if (e.code() == boost::asio::error::address_in_use)
      throw std::runtime_error("tunnel '" + tunnel_id + "': " + kind + std::to_string(port) + " (" +
                               endpoint_text(address, port) + ") is " +
                               describe_port_holder(udp ? PortKind::udp : PortKind::tcp, port));
    throw std::runtime_error("tunnel '" + tunnel_id + "': cannot open " + kind + std::to_string(port) + " (" +
                             endpoint_text(address, port) + "): " + e.code().message());
  }
}

void EdgeServer::open_public_listener(const std::string& tunnel_id, const tcp::endpoint& at) {
  auto listener = std::make_shared<PublicListener>(
      io_.get_executor(), at, [this, tunnel_id](AcceptedClient client) { forward(tunnel_id, std::move(client)); });
  listener->start();
  public_listeners_[tunnel_id] = listener;
}

void EdgeServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& l : listeners_) l->close();
  for (auto& l : retired_listeners_) l->close();
  for (auto& [id, l] : public_listeners_) l->close();
  public_listeners_.clear();
  for (auto& [id, t] : udp_tunnels_) t->close();
  if (admin_) admin_->stop();
  expiry_timer_.cancel();
  auto legs = std::move(legs_);
  for (auto& [id, leg] : legs) leg->end(sdk::errc::shutting_down);
}

void EdgeServer::accept_next(sdk::Listener* listener) {
  // A listener a reload removed is closed first: its accept ends aborted.
  listener->async_accept([this, listener](sdk::error_code ec, sdk::ConnectionPtr connection) {
    if (stopped_) return;
    if (ec) {
      // One failed handshake must not stop the listener.
      log().debug("connector handshake failed: {}", ec.message());
    } else {
      LegId id = next_leg_++;
      auto leg = std::make_shared<EdgeLeg>(*this, id, std::move(connection));
      legs_[id] = leg;
      leg_listener_[id] = listener;
      leg->start();
    }
    if (ec != boost::asio::error::operation_aborted) accept_next(listener);
  });
}

std::variant<Admission, protocol::Rejected> EdgeServer::admit(LegId leg, const SourceKey& source,
                                                            const protocol::RegisterConnection& request) {
  auto now = sdk::Clock::now();
  auto throttle = registration_admission_.check(source, request.tunnel_id, now);
  if (!throttle.admitted()) {
    ++metrics_.registrations_throttled[std::string(throttle_name(throttle.throttle))];
    auto sentence = throttle_sentence(throttle.throttle, registration_admission_.limits());
    log_source(source, throttle.log, "tunnel '" + request.tunnel_id + "': " + sentence);
    return protocol::Rejected{sdk::errc::rate_limited, sentence + "; retry after " +
                                                           sdk::format_duration(throttle.retry_after),
                              false, std::chrono::duration_cast<std::chrono::milliseconds>(throttle.retry_after)};
  }
  auto result = registry_.register_leg(leg, request, now, random_);
  auto* admission = std::get_if<Admission>(&result);
  if (!admission) {
    auto& rejected = std::get<protocol::Rejected>(result);
    if (credentials_refused(rejected)) {
      ++metrics_.auth_failures;
      log_source(source, registration_admission_.failed(source, request.tunnel_id, now),
                 "tunnel '" + request.tunnel_id + "': " + rejected.message);
    } else if (rejected.code != sdk::errc::protocol_version && rejected.code != sdk::errc::protocol_error) {
      registration_admission_.authenticated(request.tunnel_id, now);
    }
    return result;
  }
  registration_admission_.authenticated(admission->tunnel_id, now);
  if (admission->replica_joined)
    tunnel_log(admission->tunnel_id)
        .info("replica {} joined ({} of {})", replica_name(request.connector_id), admission->replicas,
              admission->max_replicas);
  if (admission->replaced) {
    if (auto old = legs_.find(*admission->replaced); old != legs_.end()) {
      tunnel_log(admission->tunnel_id)
          .info("leg {} of replica {} replaces an older connection", request.conn_index,
                replica_name(request.connector_id));
      auto older = old->second;
      older->end(sdk::errc::duplicate_registration);
    }
  }
  if (admission->open_listener) {
    auto address = resolve_public_host();
    auto port = admission->public_port;
    const TunnelEntry* udp = udp_entry(admission->tunnel_id);
    try {
      // A configured public_port was bound at start; others open now.
      if (public_port_of(admission->tunnel_id) != port) {
        if (udp)
          open_udp_port(*udp, port);
        else
          open_public_listener(admission->tunnel_id, tcp::endpoint(address, port));
      }
      ++metrics_.tunnels;
      announce_("tunnel " + admission->tunnel_id + " " + endpoint_text(address, port));
    } catch (const boost::system::system_error& e) {
      tunnel_log(admission->tunnel_id)
          .error("cannot open public {}port {}: {}", udp ? "UDP " : "", port,
                 e.code() == boost::asio::error::address_in_use
                     ? describe_port_holder(udp ? PortKind::udp : PortKind::tcp, port)
                     : e.code().message());
      registry_.listener_failed(admission->tunnel_id, leg);
      return protocol::Rejected{sdk::errc::port_in_use,
                                "the edge cannot open public port " + std::to_string(port), false,
                                std::chrono::seconds(5)};
    }
  }
  ++metrics_.registrations_total;
  metrics_.legs = registry_.leg_count();
  if (on_legs_changed) on_legs_changed();
  return result;
}

void EdgeServer::log_source(const SourceKey& source, const SourceLogDecision& line, const std::string& latest) {
  if (!line.log) return;
  log().info("registrations from {}: {} with wrong credentials, {} throttled since its last line (latest: {})",
             source.to_string(), line.failures, line.throttled, latest);
}

void EdgeServer::replica_left(const std::optional<ReplicaLeft>& left, const char* how) {
  if (!left) return;
  tunnel_log(left->tunnel_id)
      .info("replica {} left, {} ({} of {})", replica_name(left->connector_id), how, left->replicas,
            left->max_replicas);
}

// Prometheus text: live replicas per tunnel that has any leg or listener.
std::string EdgeServer::render_replicas() const {
  std::string out =
      "# HELP warren_tunnel_replicas Connector processes (replicas) with a leg heard from lately, per tunnel.\n"
      "# TYPE warren_tunnel_replicas gauge\n";
  auto now = sdk::Clock::now();
  for (const auto& t : registry_.tunnels())
    if (t.legs || t.public_port)
      out +=
          fmt::format("warren_tunnel_replicas{{tunnel=\"{}\"}} {}\n", label_value(t.id), registry_.replicas(t.id, now));
  return out;
}

void EdgeServer::leg_draining(LegId leg) {
  replica_left(registry_.drain_leg(leg, sdk::Clock::now()), "unregistered");
  udp_leg_draining(leg);
}

void EdgeServer::leg_gone(LegId leg) {
  replica_left(registry_.remove_leg(leg, sdk::Clock::now()), "its last leg ended");
  // Its flows end (leg_lost) and its channel goes while its connection is still here.
  for (auto& [id, tunnel] : udp_tunnels_) tunnel->remove_leg(leg);
  auto gone = legs_.find(leg);
  std::string name = gone != legs_.end() ? gone->second->name() : "a leg";
  legs_.erase(leg);
  leg_listener_.erase(leg);
  if (!retired_listeners_.empty()) free_retired_listeners();
  metrics_.legs = registry_.leg_count();
  if (on_legs_changed) on_legs_changed();
  // Collected first: replaying and aborting both touch forwarded_ later.
  std::vector<std::shared_ptr<ReplayCore>> unanswered;
  std::vector<std::shared_ptr<SpliceTracker>> carried;
  for (const auto& [id, f] : forwarded_) {
    auto core = f.core.lock();
    if (!core) continue;
    if (core->waiting_on(leg))
      unanswered.push_back(core);
    else if (core->accepted_on(leg))
      carried.push_back(f.splice);
  }
  if (!unanswered.empty() || !carried.empty())
    log().info("{} ended: re-dispatching {} unanswered public connection(s) to other legs, resetting {}", name,
               unanswered.size(), carried.size());
  metrics_.streams_aborted_leg_gone += carried.size();
  for (auto& splice : carried) splice->abort_all(sdk::make_error_code(sdk::errc::peer_closed));
  for (auto& core : unanswered) core->leg_lost(leg);
  schedule_expiry();
}

void EdgeServer::schedule_expiry() {
  auto next = registry_.next_expiry();
  if (!next) return;
  expiry_timer_.expires_at(*next);
  expiry_timer_.async_wait([this](sdk::error_code ec) {
    if (ec || stopped_) return;
    for (const auto& id : registry_.expire(sdk::Clock::now())) {
      if (auto it = public_listeners_.find(id); it != public_listeners_.end()) {
        it->second->close();
        public_listeners_.erase(it);
        --metrics_.tunnels;
      }
      log().info("quick tunnel '{}' expired", id);
    }
    if (on_legs_changed) on_legs_changed();
    schedule_expiry();
  });
}

}  // namespace warren::core

#include "core/connector/connector_shell.hpp"

#include "core/connector/connector_admin.hpp"
#include "core/connector/supervisor_settings.hpp"
#include "core/connector/udp_kind_check.hpp"
#include "core/log/logging.hpp"

#include <warren/sdk/discovery.hpp>

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include <algorithm>

namespace warren::core {

using namespace supervisor;

namespace {

const sdk::BackoffPolicy& find_backoff(ConnectorPlugins& plugins) {
  for (auto& p : plugins.policies)
    if (p && p->backoff()) return *p->backoff();
  throw std::runtime_error("no [[policy]] offers a backoff role; add [[policy]] plugin = \"backoff\"");
}

template <typename Role, typename Get>
const Role* find_role(ConnectorPlugins& plugins, Get get) {
  for (auto& p : plugins.policies)
    if (p && get(*p)) return get(*p);
  return nullptr;
}

// 64 random bits as 16 hex digits: unique among a tunnel's few replicas,
// short enough for every edge log line that names it.
std::string random_connector_id(sdk::RandomSource& random) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (std::uint64_t r = random.next_u64(); out.size() < 16; r >>= 4) out += hex[r & 0xf];
  return out;
}

}  // namespace

ConnectorShell::ConnectorShell(boost::asio::io_context& io, ConnectorConfig config,
                               std::shared_ptr<ConnectorPlugins> plugins, ConnectorOptions options)
    : io_(io),
      config_(std::move(config)),
      plugins_(released_later(std::move(plugins))),
      transports_(plugins_),
      backend_(lease_backend(plugins_)),
      options_(std::move(options)),
      timer_(io),
      legs_(config_.tunnel.ha_connections),
      connector_id_(config_.tunnel.connector_id.empty() ? random_connector_id(random_) : config_.tunnel.connector_id) {
  supervisor_ = std::make_unique<Supervisor>(
      supervisor_config(config_, options_.no_reconnect), find_backoff(*plugins_), random_,
      find_role<sdk::AddressPolicy>(*plugins_, [](sdk::Policy& p) { return p.address(); }),
      find_role<sdk::FallbackPolicy>(*plugins_, [](sdk::Policy& p) { return p.fallback(); }));
  udp_flows_ = std::make_shared<UdpFlows>(io_, [this] { return current_backend(); });
  live_.udp = udp_flows_.get();
  live_.udp_origins = [this](unsigned leg) { return udp_origins(leg); };
  // insecure = true is said by the transport, once, at its first dial (its contract).
}

ConnectorShell::~ConnectorShell() {
  for (auto& leg : legs_)
    for (auto* slot : {&leg.current, &leg.probe, &leg.retiring}) slot->close(sdk::errc::shutting_down);
}

void ConnectorShell::start() {
  // An [admin] address another process holds (a replica started from the
  // same config) is a runtime failure, exit 1, not a config error (2).
  try {
    start_admin();
  } catch (const std::exception& e) {
    log().error("{}", e.what());
    exit_code_ = 1;
    boost::asio::post(io_, [this] { io_.stop(); });
    return;
  }
  // Other processes started from the same config are replicas beside this one.
  // A quick tunnel has no config file to fix the id in.
  bool configurable = config_.tunnel.connector_id.empty() && config_.tunnel.id;
  log().info("connector id {}{}", connector_id_, configurable ? " (random per run; [tunnel] connector_id fixes it)" : "");
  supervisor_->handle_start(sdk::Clock::now());
  pump();
}

void ConnectorShell::shutdown() {
  if (!udp_shutdowns_before_stop_)
    udp_shutdowns_before_stop_ = udp_flows_->counters().closed(udp::CloseReason::shutdown);
  supervisor_->handle_shutdown(sdk::Clock::now());
  pump();
}

void ConnectorShell::pump() {
  while (auto action = supervisor_->poll_action()) {
    execute(*action);
    if (exit_code_) return;
  }
  if (options_.on_legs_changed) {
    auto legs = supervisor_->legs();
    auto registered = static_cast<std::size_t>(
        std::count_if(legs.begin(), legs.end(), [](const LegState& l) { return l.phase == LegPhase::registered; }));
    if (registered_legs_ != registered) options_.on_legs_changed(legs);
    registered_legs_ = registered;
  }
  if (auto next = supervisor_->next_timeout()) {
    timer_.expires_at(*next);
    timer_.async_wait([this](sdk::error_code ec) {
      if (ec || exit_code_) return;
      supervisor_->handle_timeout(sdk::Clock::now());
      pump();
    });
  } else {
    timer_.cancel();
  }
}

std::optional<LegConnection> ConnectorShell::which(unsigned leg, std::uint64_t id) const {
  if (exit_code_ || id == 0) return std::nullopt;
  const auto& l = legs_[leg];
  if (l.current.id == id) return LegConnection::current;
  if (l.probe.id == id) return LegConnection::probe;
  if (l.retiring.id == id) return LegConnection::retiring;
  return std::nullopt;
}

void ConnectorShell::execute(const SupervisorAction& action) {
  log().debug("supervisor: {}", to_string(action));
  std::visit(
      [this](const auto& a) {
        using A = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<A, Resolve>) {
          // The callback holds the set: a reload may replace it meanwhile.
          plugins_->discovery->async_resolve([this, set = plugins_](sdk::error_code ec,
                                                                    std::vector<sdk::EdgeAddress> found) {
            if (exit_code_) return;
            if (ec) {
              // The discovery's own words (which record, which resolver, why)
              // when it can give them: said with the retry, and kept for /status.
              std::string detail;
              if (const auto* d = dynamic_cast<const sdk::DiscoveryFailureDetail*>(set->discovery.get()))
                detail = d->last_failure();
              last_failure_ = "discovery failed (" + sdk::name(ec) + "): " + (detail.empty() ? ec.message() : detail);
              supervisor_->handle_resolve_failed(sdk::Clock::now(), ec, std::move(detail));
            } else {
              failed_resolves_ = 0;
              discovery_retries_.clear(sdk::Clock::now());
              supervisor_->handle_addresses_resolved(sdk::Clock::now(), std::move(found));
            }
            pump();
          });
        } else if constexpr (std::is_same_v<A, Dial>) {
          dial(a);
        } else if constexpr (std::is_same_v<A, Register>) {
          register_leg(a);
        } else if constexpr (std::is_same_v<A, SendHeartbeat>) {
          if (auto& connection = legs_[a.leg].slot(a.which).connection) connection->send_heartbeat(a.sequence);
        } else if constexpr (std::is_same_v<A, CloseLeg>) {
          legs_[a.leg].slot(a.which).close(a.reason);
        } else if constexpr (std::is_same_v<A, RetireConnection>) {
          retire(a);
        } else if constexpr (std::is_same_v<A, supervisor::Unregister>) {
          auto& connection = legs_[a.leg].current.connection;
          if (connection && a.leg >= supervisor_->wanted_legs())  // a reload lowered ha_connections
            log().info("leg {}: unregistering (ha_connections is {} now); its {} open stream(s) drain", a.leg,
                       supervisor_->wanted_legs(), connection->open_streams());
          if (connection) connection->send_unregister(a.grace_period);
        } else if constexpr (std::is_same_v<A, StopAcceptingStreams>) {
          for (auto& leg : legs_)
            if (leg.current.connection) leg.current.connection->stop_accepting_streams();
        } else if constexpr (std::is_same_v<A, RetryScheduled>) {
          retry_scheduled(a);
        } else if constexpr (std::is_same_v<A, Exit>) {
          exit(a);
        }
      },
      action);
}

sdk::EdgeVerification ConnectorShell::verification() const {
  sdk::EdgeVerification v;
  const auto& pins = config_.tunnel.edge_pins;
  if (!pins.empty()) {
    v.pin_sha256 = pins.front();
    v.other_pins_sha256.assign(pins.begin() + 1, pins.end());
  }
  if (config_.tunnel.edge_ca) v.ca_file = config_.tunnel.edge_ca->string();
  v.insecure = config_.tunnel.insecure;
  return v;
}

void ConnectorShell::dial(const Dial& d) {
  if (d.moved) log_move(d);
  auto& leg = legs_[d.leg];
  auto attempt = ++leg.next_id;
  auto& target = d.probe ? leg.probe : leg.current;
  target.close(sdk::errc::shutting_down);  // none is open here; a stale one must not linger
  target.id = attempt;
  sdk::DialOptions options;
  options.address = d.address.address;
  options.port = d.address.port;
  options.server_name = d.address.host.empty() ? d.address.address.to_string() : d.address.host;
  options.verify = verification();
  leg_log(d.leg).debug("{} {} with {}", d.probe ? "probing" : "dialing", d.address.to_string(),
                       config_.transports[d.transport].plugin);
  transports_->transports[d.transport]->async_dial(
      options, [this, index = d.leg, attempt, edge = d.address.to_string(), set = transports_](
                   sdk::error_code ec, sdk::ConnectionPtr connection) {
        auto slot = which(index, attempt);
        if (!slot) return;
        auto now = sdk::Clock::now();
        if (*slot == LegConnection::probe) {
          if (ec) {
            legs_[index].probe = {};
            leg_log(index).info("the preferred transport is still unavailable at {}: {}", edge, ec.message());
            supervisor_->handle_probe_failed(now, index, ec);
          } else {
            legs_[index].probe.connection =
                std::make_shared<ConnectorLeg>(index, std::move(connection), set, [this] { return current_backend(); },
                                               splices_, events_for(index, attempt));
            legs_[index].probe.connection->count_bytes(live_.bytes_of(index));
            legs_[index].probe.connection->carry_udp(udp_flows_);
            supervisor_->handle_probe_dial_succeeded(now, index);
          }
          return pump();
        }
        if (ec) {
          // Said with the retry or the exit that follows, once. For a refused
          // certificate the transport has said what exactly did not match.
          legs_[index].failure = ec == sdk::errc::certificate_mismatch
                                     ? "cannot trust the edge at " + edge
                                     : "cannot reach the edge at " + edge + ": " + ec.message();
          last_failure_ = legs_[index].failure;
          supervisor_->handle_dial_failed(now, index, ec);
          return pump();
        }
        legs_[index].current.connection =
            std::make_shared<ConnectorLeg>(index, std::move(connection), set, [this] { return current_backend(); },
                                           splices_, events_for(index, attempt));
        legs_[index].current.connection->count_bytes(live_.bytes_of(index));
        legs_[index].current.connection->carry_udp(udp_flows_);
        supervisor_->handle_dial_succeeded(now, index);
        pump();
      });
}

LegEvents ConnectorShell::events_for(unsigned index, std::uint64_t attempt) {
  LegEvents e;
  e.registered = [this, index, attempt](const protocol::Registered& r) {
    if (!current(index, attempt)) return;
    if (auto backend = current_backend()) {
      if (auto why = backend_kind_problem(r.kind, backend->carries(), config_.backend.plugin)) {
        last_failure_ = *why;  // exit() says it
        // 3, as a wrong token or pin: the file passes `warren check`, only the
        // edge's answer shows the mismatch, and no retry or restart mends it.
        return exit(supervisor::Exit{.code = 3, .reason = sdk::make_error_code(sdk::errc::config_invalid)});
      }
    }
    if (!r.tunnel_id.empty() && !quick_credentials_) quick_credentials_ = r;
    auto after = legs_[index].retries.clear(sdk::Clock::now());
    legs_[index].failure.reset();
    legs_[index].failed_attempts = 0;
    last_failure_.reset();
    leg_log(index).info("registered with edge '{}'; public address {}{}", r.edge_id, r.public_address,
                        after.value_or(""));
    if (config_.tunnel.public_port && index == 0 && !granted_port_logged_) {
      granted_port_logged_ = true;  // the edge refuses a registration rather than give another port
      log().info("public port {} granted as [tunnel] public_port asked", *config_.tunnel.public_port);
    }
    if (options_.on_registered) options_.on_registered(r, index);
    supervisor_->handle_registered(sdk::Clock::now(), index, RegisteredInfo{r.heartbeat_interval});
    pump();
  };
  e.rejected = [this, index, attempt](const protocol::Rejected& r) {
    if (!current(index, attempt)) return;
    if (r.fatal) fatal_rejection_ = r;
    else legs_[index].failure = "the edge refused the registration: " + r.message;
    supervisor_->handle_rejected(sdk::Clock::now(), index, sdk::make_error_code(r.code), r.fatal, r.retry_after);
    pump();
  };
  e.heartbeat_ack = [this, index, attempt](std::uint64_t sequence, sdk::Duration round_trip) {
    if (!current(index, attempt)) return;  // a retiring connection's acks do not matter
    // Every half second per leg: trace, for tests and for chasing a stall.
    leg_log(index).trace("heartbeat round trip {}", sdk::human_duration(round_trip));
    live_.heartbeat(index, round_trip);  // for /status and /metrics
    supervisor_->handle_heartbeat_ack(sdk::Clock::now(), index, sequence);
    pump();
  };
  // Streams arrive on the current connection and on a retiring one alike;
  // both serve them (the ConnectorLeg does), the supervisor counts them apart.
  e.unregister_acked = [this, index, attempt](std::uint64_t streams_opened) {
    auto slot = which(index, attempt);
    if (slot == LegConnection::current) supervisor_->handle_unregister_acked(sdk::Clock::now(), index, streams_opened);
    else if (slot == LegConnection::retiring)
      supervisor_->handle_retired_unregister_acked(sdk::Clock::now(), index, streams_opened);
    else return;
    pump();
  };
  e.stream_opened = [this, index, attempt] {
    auto slot = which(index, attempt);
    if (slot == LegConnection::current) supervisor_->handle_stream_opened(sdk::Clock::now(), index);
    else if (slot == LegConnection::retiring) supervisor_->handle_retired_stream_opened(sdk::Clock::now(), index);
    else return;
    pump();
  };
  e.stream_closed = [this, index, attempt] {
    auto slot = which(index, attempt);
    if (slot == LegConnection::current) supervisor_->handle_stream_closed(sdk::Clock::now(), index);
    else if (slot == LegConnection::retiring) supervisor_->handle_retired_stream_closed(sdk::Clock::now(), index);
    else return;
    pump();
  };
  e.backend_result = [this](const std::string& client, sdk::error_code ec) {
    auto now = sdk::Clock::now();
    if (!ec) {
      if (auto after = backend_failures_.clear(now)) log().info("the backend takes streams again{}", *after);
      return;
    }
    // A backend that is down refuses every public connection: a few lines, then one a minute.
    auto what = "the backend refuses streams: " + ec.message();
    if (auto line = backend_failures_.record(what, "the backend refused the stream from " + client + ": " +
                                                        ec.message(), now))
      log().warn("{}", *line);
  };
  e.lost = [this, index, attempt](sdk::error_code ec) {
    auto slot = which(index, attempt);
    if (slot == LegConnection::probe || slot == LegConnection::retiring) {
      legs_[index].slot(*slot) = {};
      if (slot == LegConnection::probe) supervisor_->handle_probe_failed(sdk::Clock::now(), index, ec);
      else supervisor_->handle_retired_lost(sdk::Clock::now(), index, ec);
      return pump();
    }
    if (slot != LegConnection::current) return;
    legs_[index].failure = "connection lost: " + ec.message();
    last_failure_ = legs_[index].failure;
    supervisor_->handle_connection_lost(sdk::Clock::now(), index, ec);
    pump();
  };
  return e;
}

// Make-before-break: the current connection (unregistered) keeps serving
// its streams as the retiring one; the probe, when promoted, registers next.
void ConnectorShell::retire(const RetireConnection& r) {
  auto& leg = legs_[r.leg];
  leg.retiring.close(sdk::errc::shutting_down);  // the supervisor retires one at a time
  leg.retiring = std::move(leg.current);
  leg.current = {};
  auto transport = [this](std::size_t i) {
    return i < config_.transports.size() ? config_.transports[i].plugin : std::to_string(i);
  };
  auto open = leg.retiring.connection ? leg.retiring.connection->open_streams() : 0;
  if (r.promote_probe) {
    leg.current = std::move(leg.probe);
    leg.probe = {};
    leg_log(r.leg).info("moving back to {} from {} (the probe of the preferred transport connected); the {} "
                        "connection drains its {} open stream(s)",
                        transport(r.to_transport), transport(r.from_transport), transport(r.from_transport), open);
  } else {
    leg_log(r.leg).warn("the probe of {} failed after the {} connection unregistered; it drains its {} open "
                        "stream(s) while the leg reconnects",
                        transport(r.to_transport), transport(r.from_transport), open);
  }
}

void ConnectorShell::register_leg(const supervisor::Register& r) {
  auto& connection = legs_[r.leg].current.connection;
  if (!connection) return;
  protocol::RegisterConnection request;
  request.conn_index = static_cast<std::uint8_t>(r.leg);
  request.replace_existing = r.replace_existing;
  request.client_version = "warren " WARREN_VERSION;
  request.connector_id = connector_id_;
  request.requested_public_port = config_.tunnel.public_port.value_or(0);
  if (config_.tunnel.quick()) {
    request.quick_tunnel = true;
    if (quick_credentials_) {  // every leg after the first joins the assigned tunnel
      request.tunnel_id = quick_credentials_->tunnel_id;
      request.token = quick_credentials_->token;
    }
  } else {
    request.tunnel_id = *config_.tunnel.id;
    request.token = *config_.tunnel.token;
  }
  connection->register_with(request);
}

}  // namespace warren::core

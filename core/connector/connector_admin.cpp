#include "core/connector/connector_admin.hpp"

#include "core/admin/prometheus_text.hpp"
#include "core/connector/connector_shell.hpp"
#include "core/connector/connector_udp_admin.hpp"
#include "core/log/logging.hpp"

#include <warren/sdk/endpoint.hpp>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <map>
#include <stdexcept>

#include <unistd.h>

namespace warren::core {

using supervisor::LegEvent;
using supervisor::LegHistoryEntry;
using supervisor::LegPhase;
using supervisor::Supervisor;

namespace {

constexpr LegPhase kPhases[] = {LegPhase::idle,          LegPhase::scheduled,   LegPhase::awaiting_addresses,
                                LegPhase::dialing,       LegPhase::registering, LegPhase::registered,
                                LegPhase::unregistering, LegPhase::closed};

std::string transport_name(const ConnectorIdentity& identity, std::size_t index) {
  return index < identity.transports.size() ? identity.transports[index] : std::to_string(index);
}

using prometheus::family;
using prometheus::label;

std::string sample(const char* name, const std::string& labels, std::uint64_t value) {
  return std::string(name) + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(value) + "\n";
}

/// A duration in seconds, as Prometheus wants times: "0.001250".
std::string seconds_text(sdk::Duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6f", std::chrono::duration<double>(d).count());
  return text;
}

/// Milliseconds with a tenth, for /status: 1.2.
double milliseconds(sdk::Duration d) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(d).count() / 100) / 10.0;
}

/// The RTT to show for `leg`: its last heartbeat's, while it is registered.
std::optional<sdk::Duration> shown_rtt(const ConnectorLive& live, const supervisor::LegState& leg, unsigned i) {
  if (leg.phase != LegPhase::registered || i >= live.rtt.size()) return std::nullopt;
  return live.rtt[i];
}

/// The latest entry of `history` with event `event`, if it still holds one.
const LegHistoryEntry* latest(const supervisor::LegHistory& history, LegEvent event) {
  const auto& entries = history.entries();
  for (auto it = entries.rbegin(); it != entries.rend(); ++it)
    if (it->event == event) return &*it;
  return nullptr;
}

boost::json::object entry_json(const LegHistoryEntry& e, const ConnectorIdentity& identity, sdk::TimePoint now,
                               std::chrono::system_clock::time_point wall_now) {
  boost::json::object o;
  auto ago = std::chrono::duration_cast<std::chrono::system_clock::duration>(now - e.at);
  o["time"] = utc_text(wall_now - ago);
  o["event"] = std::string(supervisor::name(e.event));
  if (e.address) o["address"] = e.address->to_string();
  o["transport"] = transport_name(identity, e.transport);
  if (e.error) o["error"] = sdk::name(e.error);
  if (e.event == LegEvent::moved_address && e.from) o["from"] = e.from->to_string();
  if (e.event == LegEvent::moved_transport || e.event == LegEvent::returned_transport)
    o["from_transport"] = transport_name(identity, e.from_transport);
  if (e.event == LegEvent::retry_scheduled)
    o["delay_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(e.delay).count();
  return o;
}

/// `at` (supervisor clock) as UTC text, given the same instant on both clocks.
std::string wall_text(sdk::TimePoint at, sdk::TimePoint now, std::chrono::system_clock::time_point wall_now) {
  return utc_text(wall_now - std::chrono::duration_cast<std::chrono::system_clock::duration>(now - at));
}

/// {"failures": {name: n}, "last_error": {"error", "detail", "time"} | null, "last_success": time | null}
boost::json::object discovery_json(const supervisor::DiscoveryStatus& d, sdk::TimePoint now,
                                   std::chrono::system_clock::time_point wall_now) {
  boost::json::object o;
  boost::json::object failures;
  for (const auto& [reason, n] : d.failures) failures[reason] = n;
  o["failures"] = std::move(failures);
  if (d.last_failure_at) {
    boost::json::object last;
    last["error"] = sdk::name(d.last_error);
    last["detail"] = d.last_detail.empty() ? d.last_error.message() : d.last_detail;
    last["time"] = wall_text(*d.last_failure_at, now, wall_now);
    o["last_error"] = std::move(last);
  } else {
    o["last_error"] = nullptr;
  }
  if (d.last_success_at)
    o["last_success"] = wall_text(*d.last_success_at, now, wall_now);
  else
    o["last_success"] = nullptr;
  return o;
}

}  // namespace

bool connector_ready(const Supervisor& supervisor) {
  for (const auto& leg : supervisor.legs())
    if (leg.phase == LegPhase::registered) return true;
  return false;
}

std::string render_connector_metrics(const Supervisor& supervisor, const ConnectorIdentity& identity,
                                     const ConnectorLive& live) {
  std::string out;
  const auto legs = supervisor.legs();
  family(out, "warren_connector_ready", "gauge", "1 when at least one leg is registered");
  out += sample("warren_connector_ready", "", connector_ready(supervisor) ? 1 : 0);

  family(out, "warren_connector_legs", "gauge", "legs by state");
  std::map<LegPhase, std::uint64_t> by_phase;
  for (const auto& leg : legs) ++by_phase[leg.phase];
  for (auto phase : kPhases)
    out += sample("warren_connector_legs", "state=\"" + std::string(supervisor::name(phase)) + "\"", by_phase[phase]);

  auto per_leg = [&](const char* name, const char* help, auto value) {
    family(out, name, "counter", help);
    for (unsigned i = 0; i < legs.size(); ++i)
      out += sample(name, "leg=\"" + std::to_string(i) + "\"", value(supervisor.leg_history(i).totals()));
  };
  per_leg("warren_connector_leg_registrations_total", "registrations the edge accepted",
          [](const supervisor::LegTotals& t) { return t.registrations; });
  per_leg("warren_connector_leg_dials_total", "dials started", [](const supervisor::LegTotals& t) { return t.dials; });

  auto by_reason = [&](const char* name, const char* help, auto counts) {
    family(out, name, "counter", help);
    for (unsigned i = 0; i < legs.size(); ++i)
      for (const auto& [reason, n] : counts(supervisor.leg_history(i).totals()))
        out += sample(name, "leg=\"" + std::to_string(i) + "\",reason=\"" + label(reason) + "\"", n);
  };
  by_reason(
      "warren_connector_leg_losses_total", "connections lost after dialing (each one a reconnect), by error name",
      [](const supervisor::LegTotals& t) -> const auto& { return t.losses; });
  by_reason(
      "warren_connector_leg_registrations_refused_total", "registrations the edge refused, by error name",
      [](const supervisor::LegTotals& t) -> const auto& { return t.rejections; });
  by_reason(
      "warren_connector_leg_attempt_failures_total", "dials that failed and registrations refused, by error name",
      [](const supervisor::LegTotals& t) -> const auto& { return t.attempt_failures; });

  family(out, "warren_connector_leg_moves_total", "counter", "moves to another edge address or transport");
  for (unsigned i = 0; i < legs.size(); ++i) {
    const auto& t = supervisor.leg_history(i).totals();
    out += sample("warren_connector_leg_moves_total", "leg=\"" + std::to_string(i) + "\",kind=\"address\"",
                  t.address_moves);
    out += sample("warren_connector_leg_moves_total", "leg=\"" + std::to_string(i) + "\",kind=\"transport\"",
                  t.transport_moves);
  }

  family(out, "warren_connector_discovery_failures_total", "counter",
         "resolves the discovery plugin failed, by error name (discovery_failed, no_edges ...)");
  for (const auto& [reason, n] : supervisor.discovery().failures)
    out += sample("warren_connector_discovery_failures_total", "reason=\"" + label(reason) + "\"", n);

  family(out, "warren_connector_leg_address", "gauge",
         "1 for the edge address and transport each leg is connected to (or dialing)");
  for (unsigned i = 0; i < legs.size(); ++i) {
    const auto& leg = legs[i];
    if (!supervisor::holds_connection(leg.phase) || !leg.edge) continue;
    out += sample("warren_connector_leg_address",
                  "leg=\"" + std::to_string(i) + "\",address=\"" + label(leg.edge->to_string()) + "\",transport=\"" +
                      label(transport_name(identity, leg.fallback.current)) + "\"",
                  1);
  }

  family(out, "warren_connector_leg_rtt_seconds", "gauge",
         "the last heartbeat round trip of each registered leg, in seconds");
  for (unsigned i = 0; i < legs.size(); ++i)
    if (auto rtt = shown_rtt(live, legs[i], i))
      out += "warren_connector_leg_rtt_seconds{leg=\"" + std::to_string(i) + "\"} " + seconds_text(*rtt) + "\n";
  family(out, "warren_connector_leg_streams_open", "gauge", "data streams open on each leg's current connection");
  for (unsigned i = 0; i < legs.size(); ++i)
    out += sample("warren_connector_leg_streams_open", "leg=\"" + std::to_string(i) + "\"", legs[i].streams_open);
  family(out, "warren_connector_leg_bytes_total", "counter",
         "bytes each leg copied between the tunnel and the backend, over all its connections, counted as written");
  for (unsigned i = 0; i < live.leg_bytes.size() && i < legs.size(); ++i) {
    if (!live.leg_bytes[i]) continue;
    auto leg = "leg=\"" + std::to_string(i) + "\",direction=";
    out += sample("warren_connector_leg_bytes_total", leg + "\"to_backend\"", live.leg_bytes[i]->a_to_b);
    out += sample("warren_connector_leg_bytes_total", leg + "\"from_backend\"", live.leg_bytes[i]->b_to_a);
  }
  if (live.splices) {
    family(out, "warren_connector_streams_total", "counter", "data streams spliced to the backend");
    out += sample("warren_connector_streams_total", "", live.splices->total());
    family(out, "warren_connector_bytes_total", "counter",
           "bytes copied between the tunnel and the backend, counted as they are written");
    out += sample("warren_connector_bytes_total", "direction=\"to_backend\"", live.splices->bytes().a_to_b);
    out += sample("warren_connector_bytes_total", "direction=\"from_backend\"", live.splices->bytes().b_to_a);
  }
  if (live.udp && live.udp->carried()) append_udp_metrics(out, *live.udp);
  return out;
}

std::string render_connector_status(const Supervisor& supervisor, const ConnectorIdentity& identity, sdk::TimePoint now,
                                    std::chrono::system_clock::time_point wall_now, const ConnectorLive& live) {
  boost::json::object doc;
  doc["role"] = "connector";
  doc["tunnel"] = identity.tunnel;
  doc["connector_id"] = identity.connector_id;
  doc["config_file"] = identity.config_file;
  doc["pid"] = static_cast<std::int64_t>(::getpid());
  doc["started"] = utc_text(identity.started);
  doc["uptime_s"] = std::chrono::duration_cast<std::chrono::seconds>(wall_now - identity.started).count();
  doc["ready"] = connector_ready(supervisor);
  boost::json::array legs;
  const auto states = supervisor.legs();
  for (unsigned i = 0; i < states.size(); ++i) {
    const auto& leg = states[i];
    const auto& history = supervisor.leg_history(i);
    boost::json::object o;
    o["leg"] = i;
    o["state"] = std::string(supervisor::name(leg.phase));
    if (supervisor::holds_connection(leg.phase) && leg.edge) {
      o["address"] = leg.edge->to_string();
      o["transport"] = transport_name(identity, leg.fallback.current);
    } else {
      o["address"] = nullptr;
      o["transport"] = nullptr;
    }
    if (auto rtt = shown_rtt(live, leg, i))
      o["rtt_ms"] = milliseconds(*rtt);
    else
      o["rtt_ms"] = nullptr;
    o["streams_open"] = leg.streams_open;
    // A udp tunnel's leg: the flows it carries (its udp stream counts in streams_open).
    if (live.udp && live.udp->carried())
      o["flows_open"] = udp_flows_of(*live.udp, live.udp_origins ? live.udp_origins(i) : std::vector<std::uint32_t>{});
    boost::json::object leg_bytes;
    bool counted = i < live.leg_bytes.size() && live.leg_bytes[i];
    leg_bytes["to_backend"] = counted ? live.leg_bytes[i]->a_to_b : 0;
    leg_bytes["from_backend"] = counted ? live.leg_bytes[i]->b_to_a : 0;
    o["bytes"] = std::move(leg_bytes);
    const auto* registered = latest(history, LegEvent::registered);
    if (leg.phase == LegPhase::registered && registered)
      o["since"] = wall_text(registered->at, now, wall_now);
    else
      o["since"] = nullptr;
    // The reason of the last reconnect: the latest loss while the history holds it.
    if (const auto* lost = latest(history, LegEvent::lost))
      o["last_reconnect"] = entry_json(*lost, identity, now, wall_now);
    else
      o["last_reconnect"] = nullptr;
    if (history.last_error())
      o["last_error"] = sdk::name(history.last_error());
    else
      o["last_error"] = nullptr;
    o["registrations"] = history.totals().registrations;
    boost::json::array entries;
    for (const auto& e : history.entries()) entries.push_back(entry_json(e, identity, now, wall_now));
    o["history"] = std::move(entries);
    legs.push_back(std::move(o));
  }
  doc["legs"] = std::move(legs);
  if (live.splices) {
    doc["streams_open"] = live.splices->active();
    doc["streams_total"] = live.splices->total();
    boost::json::object bytes;
    bytes["to_backend"] = live.splices->bytes().a_to_b;
    bytes["from_backend"] = live.splices->bytes().b_to_a;
    doc["bytes"] = std::move(bytes);
  }
  if (live.udp && live.udp->carried()) {
    auto udp = udp_status_json(*live.udp);
    // What the flows carried, for `warren status` (a udp tunnel splices no stream bytes).
    const auto& carried = live.udp->counters();
    udp["datagrams"] = {{"to_backend", carried.requests}, {"from_backend", carried.responses}};
    udp["bytes"] = {{"to_backend", carried.request_bytes}, {"from_backend", carried.response_bytes}};
    doc["udp"] = std::move(udp);
  }
  doc["discovery"] = discovery_json(supervisor.discovery(), now, wall_now);
  return boost::json::serialize(doc) + "\n";
}

ConnectorAdmin::ConnectorAdmin(boost::asio::io_context& io, const sdk::Endpoint& at, const Supervisor& supervisor,
                               ConnectorIdentity identity, const ConnectorLive& live)
    : supervisor_(supervisor), identity_(std::move(identity)), live_(live) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(at.host == "localhost" ? "127.0.0.1" : at.host, ec);
  if (ec) throw std::runtime_error("[admin] address '" + at.host + "' must be an IP address");
  try {
    server_ = std::make_unique<AdminServer>(io, boost::asio::ip::tcp::endpoint(address, at.port), routes());
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("the connector cannot serve [admin] on " + sdk::format_host_port(at.host, at.port) + ": " +
                             e.code().message() +
                             (e.code() == boost::asio::error::address_in_use
                                  ? " (is a replica from the same config running? give each replica its own "
                                    "[admin] address, or port 0)"
                                  : ""));
  }
}

AdminServer::Routes ConnectorAdmin::routes() {
  return {
      {"/metrics",
       [this] {
         return AdminResponse{200, kPrometheusText, render_connector_metrics(supervisor_, identity_, live_)};
       }},
      {"/ready",
       [this] {
         return connector_ready(supervisor_) ? AdminResponse{200, "text/plain; charset=utf-8", "ready\n"}
                                             : AdminResponse{503, "text/plain; charset=utf-8", "no leg registered\n"};
       }},
      {"/status",
       [this] {
         return AdminResponse{
             200, "application/json",
             render_connector_status(supervisor_, identity_, sdk::Clock::now(), std::chrono::system_clock::now(),
                                     live_)};
       }},
  };
}

}  // namespace warren::core

namespace warren::core {

// Lives here, beside the rest of what the leg history feeds, so the shell's
// own file keeps to carrying out actions.
void ConnectorShell::start_admin() {
  if (!config_.admin) return;
  admin_ = std::make_unique<ConnectorAdmin>(io_, *config_.admin, *supervisor_, admin_identity(), live_);
  auto bound = admin_->local_endpoint();
  log().info("admin http://{}/ (/metrics, /ready, /status)",
             sdk::format_host_port(bound.address().to_string(), bound.port()));
}

ConnectorIdentity ConnectorShell::admin_identity() const {
  ConnectorIdentity identity{config_.tunnel.id.value_or(""), connector_id_, {},
                             config_.file.empty() ? std::string() : std::filesystem::absolute(config_.file).string(),
                             started_};
  for (const auto& t : config_.transports) identity.transports.push_back(t.plugin);
  return identity;
}

std::vector<std::uint32_t> ConnectorShell::udp_origins(unsigned leg) const {
  std::vector<std::uint32_t> out;
  if (leg >= legs_.size()) return out;
  for (const auto* slot : {&legs_[leg].current, &legs_[leg].probe, &legs_[leg].retiring})
    if (slot->connection)
      if (auto origin = slot->connection->udp_origin()) out.push_back(*origin);
  return out;
}

std::string ConnectorShell::render_admin(std::string_view path) const {
  if (path == "/metrics") return render_connector_metrics(*supervisor_, admin_identity(), live_);
  if (path == "/status")
    return render_connector_status(*supervisor_, admin_identity(), sdk::Clock::now(), std::chrono::system_clock::now(),
                                   live_);
  return {};
}

// "leg 1: moving from 127.0.0.1:7844 to 127.0.0.1:7845 after peer_unreachable";
// a transport change names the transports the same way. Info for the first
// move after a registration (a working leg re-homes) and for every
// transport change; while a leg keeps failing, its retry warnings (already
// summarised) say enough, and its moves go to debug.
void ConnectorShell::log_move(const supervisor::Dial& d) const {
  const auto& move = *d.moved;
  auto transport = [this](std::size_t i) {
    return i < config_.transports.size() ? config_.transports[i].plugin : std::to_string(i);
  };
  std::string from, to;
  if (move.from_address) {
    from = move.from_address->to_string();
    to = d.address.to_string();
  }
  if (move.from_transport) {
    from += (from.empty() ? "" : " over ") + transport(*move.from_transport);
    to += (to.empty() ? "" : " over ") + transport(d.transport);
  }
  bool first_since_registered = legs_[d.leg].failed_attempts <= 1;
  leg_log(d.leg).write(first_since_registered || move.from_transport ? sdk::LogLevel::info : sdk::LogLevel::debug,
                       fmt::format("moving from {} to {} after {}", from, to,
                                   move.reason ? sdk::name(move.reason) : std::string("a failure")));
}

}  // namespace warren::core

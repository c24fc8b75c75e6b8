#include "core/edge/edge_admin.hpp"

#include "core/admin/admin_server.hpp"
#include "core/admin/prometheus_text.hpp"
#include "core/edge/edge_leg.hpp"
#include "core/edge/edge_server.hpp"
#include "core/edge/port_holder.hpp"
#include "core/splice/stream_splice.hpp"

#include <warren/sdk/endpoint.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>

#include <unistd.h>

namespace warren::core {

namespace {

/// Milliseconds with a tenth: 1.2.
double milliseconds(sdk::Duration d) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(d).count() / 100) / 10.0;
}

using prometheus::family;
using prometheus::label;

boost::json::object leg_json(const EdgeLegStatus& leg) {
  boost::json::object o;
  o["connector_id"] = leg.connector_id;
  o["leg"] = leg.index;
  o["state"] = leg.state;
  o["transport"] = leg.transport;
  o["remote"] = leg.remote;
  if (leg.rtt)
    o["rtt_ms"] = milliseconds(*leg.rtt);
  else
    o["rtt_ms"] = nullptr;
  if (leg.since)
    o["since"] = utc_text(*leg.since);
  else
    o["since"] = nullptr;
  o["streams_open"] = leg.streams_open;
  if (leg.flows_open) o["flows_open"] = *leg.flows_open;
  return o;
}

}  // namespace

std::string render_edge_status(const EdgeStatus& status, std::chrono::system_clock::time_point now) {
  boost::json::object doc;
  doc["role"] = "edge";
  doc["edge_id"] = status.edge_id;
  doc["config_file"] = status.config_file;
  doc["pid"] = static_cast<std::int64_t>(::getpid());
  doc["started"] = utc_text(status.started);
  doc["uptime_s"] = std::chrono::duration_cast<std::chrono::seconds>(now - status.started).count();
  doc["ready"] = status.ready;
  boost::json::array listeners;
  for (const auto& l : status.listeners)
    listeners.push_back({{"transport", l.transport}, {"address", l.address}, {"legs", l.legs}});
  doc["listeners"] = std::move(listeners);
  boost::json::array tunnels;
  for (const auto& t : status.tunnels) {
    boost::json::object o;
    o["id"] = t.id;
    if (t.public_address.empty())
      o["public_address"] = nullptr;
    else
      o["public_address"] = t.public_address;
    o["kind"] = t.kind;
    if (t.kind == "udp")
      o["flows"] = {{"active", t.flows_active}, {"total", t.flows_total}, {"legs", t.flow_legs}};
    o["quick"] = t.quick;
    o["replicas"] = t.replicas;
    o["streams_open"] = t.streams_open;
    o["bytes"] = {{"to_connector", t.bytes_to_connector}, {"from_connector", t.bytes_from_connector}};
    boost::json::array legs;
    for (const auto& leg : t.legs) legs.push_back(leg_json(leg));
    o["legs"] = std::move(legs);
    tunnels.push_back(std::move(o));
  }
  doc["tunnels"] = std::move(tunnels);
  return boost::json::serialize(doc) + "\n";
}

std::string render_edge_tunnel_metrics(const EdgeStatus& status,
                                       const std::map<std::string, std::shared_ptr<ByteCounter>>& tunnel_bytes) {
  std::string out;
  family(out, "warren_tunnel_legs", "gauge", "Legs of each tunnel, registered or draining.");
  for (const auto& t : status.tunnels)
    out += "warren_tunnel_legs{tunnel=\"" + label(t.id) + "\"} " + std::to_string(t.legs.size()) + "\n";
  family(out, "warren_tunnel_streams_active", "gauge", "Public connections of each tunnel being forwarded now.");
  for (const auto& t : status.tunnels)
    out += "warren_tunnel_streams_active{tunnel=\"" + label(t.id) + "\"} " + std::to_string(t.streams_open) + "\n";
  family(out, "warren_tunnel_bytes_total", "counter",
         "Bytes forwarded through each tunnel, counted as they are written (running streams included).");
  for (const auto& [id, bytes] : tunnel_bytes) {
    out += "warren_tunnel_bytes_total{tunnel=\"" + label(id) + "\",direction=\"to_connector\"} " +
           std::to_string(bytes->a_to_b) + "\n";
    out += "warren_tunnel_bytes_total{tunnel=\"" + label(id) + "\",direction=\"from_connector\"} " +
           std::to_string(bytes->b_to_a) + "\n";
  }
  family(out, "warren_listener_legs", "gauge", "Registered legs that came through each transport listener.");
  for (const auto& l : status.listeners)
    out += "warren_listener_legs{address=\"" + label(l.address) + "\",transport=\"" + label(l.transport) + "\"} " +
           std::to_string(l.legs) + "\n";
  return out;
}

// The EdgeServer and EdgeLeg parts that gather what /status shows live here,
// beside its rendering, so the server's own files keep to serving.

std::optional<EdgeLegStatus> EdgeLeg::status() const {
  if (tunnel_id_.empty() || ended_) return std::nullopt;  // not registered (yet), or gone
  auto phase = engine_.phase();
  if (phase != EdgeLegPhase::registered && phase != EdgeLegPhase::draining) return std::nullopt;
  EdgeLegStatus s;
  s.connector_id = server_.registry_.connector_of(id_);
  s.index = conn_index_;
  s.remote = remote_;
  s.state = phase == EdgeLegPhase::registered ? "registered" : "draining";
  if (auto rtt = connection_->stats().smoothed_rtt; rtt > sdk::Duration::zero()) s.rtt = rtt;
  s.since = registered_at_;
  s.streams_open = engine_.streams_open();
  return s;
}

EdgeStatus EdgeServer::status() const {
  EdgeStatus s;
  s.edge_id = config_.edge.id;
  s.config_file = config_.file.empty() ? std::string() : std::filesystem::absolute(config_.file).string();
  s.started = started_;
  s.ready = !stopped_ && !listeners_.empty();
  std::map<std::string, std::vector<EdgeLegStatus>> legs;
  std::vector<std::size_t> per_listener(listeners_.size());
  for (const auto& [id, leg] : legs_) {
    auto view = leg->status();
    if (!view) continue;
    // The listener that accepted it; one a reload retired is no longer listed.
    if (auto via = leg_listener_.find(id); via != leg_listener_.end())
      for (std::size_t i = 0; i < listeners_.size(); ++i)
        if (listeners_[i].get() == via->second) {
          ++per_listener[i];
          view->transport = listening_[i].transport.plugin;
        }
    if (auto udp = udp_tunnels_.find(leg->tunnel_id()); udp != udp_tunnels_.end()) {
      view->flows_open = udp->second->flows_on(id);
      // Its udp stream carries flow frames, no public connection: a udp
      // tunnel's leg shows its flows, not "1 stream" (trial finding).
      if (udp->second->holds_leg(id) && view->streams_open > 0) --view->streams_open;
    }
    legs[leg->tunnel_id()].push_back(std::move(*view));
  }
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    auto host = listening_[i].address.host;
    s.listeners.push_back(
        {listening_[i].transport.plugin, sdk::format_host_port(host, listeners_[i]->local_port()), per_listener[i]});
  }
  auto now = sdk::Clock::now();
  const auto udp_totals = udp_stats();
  for (const auto& t : registry_.tunnels()) {
    EdgeTunnelStatus ts;
    ts.id = t.id;
    if (auto port = public_port_of(t.id)) ts.public_address = sdk::format_host_port(config_.edge.public_host, *port);
    if (udp_entry(t.id)) ts.kind = "udp";
    if (auto udp = udp_tunnels_.find(t.id); udp != udp_tunnels_.end()) {
      ts.flows_active = udp->second->flows();
      ts.flows_total = udp->second->stats().flows_opened;
      ts.flow_legs = udp->second->legs_taking_flows();
    }
    ts.quick = t.quick;
    ts.replicas = registry_.replicas(t.id, now);
    ts.streams_open = t.streams;
    if (auto bytes = metrics_.tunnel_bytes.find(t.id); bytes != metrics_.tunnel_bytes.end()) {
      ts.bytes_to_connector = bytes->second->a_to_b;
      ts.bytes_from_connector = bytes->second->b_to_a;
    }
    if (auto udp = udp_totals.find(t.id); udp != udp_totals.end() && ts.kind == "udp") {
      // Datagrams count no stream bytes: the tunnel's are its datagrams' (gone ports' included);
      // toward the connector only those a leg took, not every one that arrived (some are dropped).
      ts.bytes_to_connector = udp->second.bytes_to_connector;
      ts.bytes_from_connector = udp->second.bytes_out;
    }
    ts.legs = std::move(legs[t.id]);
    std::sort(ts.legs.begin(), ts.legs.end(), [](const EdgeLegStatus& a, const EdgeLegStatus& b) {
      return std::tie(a.connector_id, a.index) < std::tie(b.connector_id, b.index);
    });
    s.tunnels.push_back(std::move(ts));
  }
  return s;
}

void EdgeServer::start_admin() {
  if (!config_.edge.admin) return;
  boost::system::error_code ec;
  const auto& host = config_.edge.admin->host;
  auto address = boost::asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) throw std::runtime_error("admin address '" + host + "' must be an IP address");
  boost::asio::ip::tcp::endpoint at(address, config_.edge.admin->port);
  auto text = [](const std::string& body) { return AdminResponse{200, "text/plain; charset=utf-8", body}; };
  AdminServer::Routes routes{
      {"/metrics",
       [this] {
         return AdminResponse{200, kPrometheusText,
                              metrics_.render() + render_replicas() +
                                  render_edge_tunnel_metrics(status(), metrics_.tunnel_bytes) +
                                  render_listener_stats(listeners_) + render_udp_metrics()};
       }},
      {"/healthz", [text] { return text("ok\n"); }},
      {"/ready",
       [this, text] {
         return !stopped_ && !listeners_.empty() ? text("ready\n")
                                                 : AdminResponse{503, "text/plain; charset=utf-8", "not listening\n"};
       }},
      {"/status",
       [this] {
         return AdminResponse{200, "application/json", render_edge_status(status(), std::chrono::system_clock::now())};
       }},
  };
  try {
    admin_ = std::make_unique<AdminServer>(io_, at, std::move(routes));
  } catch (const boost::system::system_error& e) {
    auto where = sdk::format_host_port(at.address().to_string(), at.port());
    if (e.code() == boost::asio::error::address_in_use)
      throw std::runtime_error("the edge's admin address " + where + " is " +
                               describe_port_holder(PortKind::tcp, at.port()));
    throw std::runtime_error("the edge cannot serve its admin endpoints on " + config_.edge.admin->to_string() + ": " +
                             e.code().message());
  }
  auto bound = admin_->local_endpoint();
  // Tests and scripts read this line for the port: keep its shape.
  announce_("admin http://" + sdk::format_host_port(bound.address().to_string(), bound.port()) + "/metrics");
}

}  // namespace warren::core

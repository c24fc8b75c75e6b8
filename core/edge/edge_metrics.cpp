#include "core/edge/edge_metrics.hpp"

#include "core/edge/public_admission.hpp"
#include "core/edge/registration_admission.hpp"

#include <algorithm>

namespace warren::core {
namespace {

void metric(std::string& out, const char* name, const char* type, const char* help, std::uint64_t value) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
         std::to_string(value) + "\n";
}

void labeled(std::string& out, const char* name, const char* help, const char* label,
             const std::map<std::string, std::uint64_t>& values) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n";
  for (const auto& [value, count] : values)
    out += std::string(name) + "{" + label + "=\"" + value + "\"} " + std::to_string(count) + "\n";
}

bool metric_name(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

std::string label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

}  // namespace

EdgeMetrics::EdgeMetrics() {
  for (auto reason : all_public_refusals) public_refused[std::string(refusal_name(reason))] = 0;
  for (auto reason : all_registration_throttles) registrations_throttled[std::string(throttle_name(reason))] = 0;
}

std::shared_ptr<ByteCounter> EdgeMetrics::bytes_for(const std::string& tunnel) {
  auto& counter = tunnel_bytes[tunnel];
  if (!counter) {
    counter = std::make_shared<ByteCounter>();
    counter->parent = bytes;
  }
  return counter;
}

std::string EdgeMetrics::render() const {
  std::string out;
  metric(out, "warren_tunnels", "gauge", "Tunnels with an open public listener.", tunnels);
  metric(out, "warren_legs", "gauge", "Registered connector connections.", legs);
  metric(out, "warren_streams_active", "gauge", "Public connections being forwarded now.", streams_active);
  metric(out, "warren_streams_total", "counter", "Public connections forwarded.", streams_total);
  metric(out, "warren_streams_refused_total", "counter", "Public connections refused, all reasons together.",
         streams_refused);
  labeled(out, "warren_public_refused_total", "Public connections refused (closed with RST), by reason.", "reason",
          public_refused);
  metric(out, "warren_public_idle_closed_total", "counter",
         "Public connections closed after public_idle_timeout with no byte either way.", public_idle_closed);
  metric(out, "warren_streams_aborted_leg_gone_total", "counter",
         "Public connections reset because the connector leg carrying them ended.", streams_aborted_leg_gone);
  metric(out, "warren_streams_redispatched_total", "counter",
         "Data streams opened again on another leg (client bytes replayed) because the one before ended or was "
         "refused before the connector answered.",
         streams_redispatched);
  metric(out, "warren_streams_unanswered_total", "counter",
         "Public connections reset because no connector leg answered their stream within the attempts.",
         streams_unanswered);
  labeled(out, "warren_stream_refusals_total", "Data streams a connector refused, by reason.", "reason",
          stream_refusals);
  out += "# HELP warren_bytes_total Bytes forwarded through tunnels.\n# TYPE warren_bytes_total counter\n";
  out += "warren_bytes_total{direction=\"to_connector\"} " + std::to_string(bytes->a_to_b) + "\n";
  out += "warren_bytes_total{direction=\"from_connector\"} " + std::to_string(bytes->b_to_a) + "\n";
  metric(out, "warren_registrations_total", "counter", "Connector registrations accepted.", registrations_total);
  labeled(out, "warren_registrations_refused_total", "Connector registrations refused, by reason.", "reason",
          registrations_refused);
  labeled(out, "warren_registrations_throttled_total",
          "Connector registrations refused with rate_limited before their credentials were checked, by reason.",
          "reason", registrations_throttled);
  metric(out, "warren_auth_failures_total", "counter",
         "Connector registrations that presented wrong credentials (a tunnel id and token the edge does not accept).",
         auth_failures);
  metric(out, "warren_protocol_errors_total", "counter", "Connections closed for malformed control frames.",
         protocol_errors);
  return out;
}

std::string render_listener_stats(const std::vector<sdk::ListenerPtr>& listeners) {
  // Grouped by name so each family gets one HELP and TYPE line, as the
  // exposition format wants, whichever listener reported it first.
  std::map<std::string, std::pair<const sdk::ListenerMetric*, std::string>> families;
  std::vector<sdk::ListenerStats> snapshots;
  snapshots.reserve(listeners.size());
  for (const auto& listener : listeners) snapshots.push_back(listener->stats());
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    for (const auto& m : snapshots[i]) {
      if (!metric_name(m.name)) continue;
      std::string labels = "listener=\"" + std::to_string(listeners[i]->local_port()) + "\"";
      for (const auto& [k, v] : m.labels)
        if (metric_name(k)) labels += "," + k + "=\"" + label_value(v) + "\"";
      auto& family = families[m.name];
      if (!family.first) family.first = &m;
      family.second += "warren_" + m.name + "{" + labels + "} " + std::to_string(m.value) + "\n";
    }
  }
  std::string out;
  for (const auto& [name, family] : families) {
    const char* type = family.first->kind == sdk::ListenerMetric::Kind::counter ? "counter" : "gauge";
    out += "# HELP warren_" + name + " " + label_value(family.first->help) + "\n# TYPE warren_" + name + " " + type +
           "\n" + family.second;
  }
  return out;
}

}  // namespace warren::core

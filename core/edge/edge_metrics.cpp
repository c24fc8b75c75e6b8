#include "core/edge/edge_metrics.hpp"

#include "core/edge/public_admission.hpp"

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

}  // namespace

EdgeMetrics::EdgeMetrics() {
  for (auto reason : all_public_refusals) public_refused[std::string(refusal_name(reason))] = 0;
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
  out += "# HELP warren_bytes_total Bytes forwarded through tunnels.\n# TYPE warren_bytes_total counter\n";
  out += "warren_bytes_total{direction=\"to_connector\"} " + std::to_string(bytes_to_connector) + "\n";
  out += "warren_bytes_total{direction=\"from_connector\"} " + std::to_string(bytes_from_connector) + "\n";
  metric(out, "warren_registrations_total", "counter", "Connector registrations accepted.", registrations_total);
  labeled(out, "warren_registrations_refused_total", "Connector registrations refused, by reason.", "reason",
          registrations_refused);
  metric(out, "warren_protocol_errors_total", "counter", "Connections closed for malformed control frames.",
         protocol_errors);
  return out;
}

}  // namespace warren::core

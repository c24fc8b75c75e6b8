#include "core/edge/edge_metrics.hpp"

namespace warren::core {
namespace {

void metric(std::string& out, const char* name, const char* type, const char* help, std::uint64_t value) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
         std::to_string(value) + "\n";
}

}  // namespace

std::string EdgeMetrics::render() const {
  std::string out;
  metric(out, "warren_tunnels", "gauge", "Tunnels with an open public listener.", tunnels);
  metric(out, "warren_legs", "gauge", "Registered connector connections.", legs);
  metric(out, "warren_streams_active", "gauge", "Public connections being forwarded now.", streams_active);
  metric(out, "warren_streams_total", "counter", "Public connections forwarded.", streams_total);
  metric(out, "warren_streams_refused_total", "counter", "Public connections closed for want of a live leg.",
         streams_refused);
  out += "# HELP warren_bytes_total Bytes forwarded through tunnels.\n# TYPE warren_bytes_total counter\n";
  out += "warren_bytes_total{direction=\"to_connector\"} " + std::to_string(bytes_to_connector) + "\n";
  out += "warren_bytes_total{direction=\"from_connector\"} " + std::to_string(bytes_from_connector) + "\n";
  metric(out, "warren_registrations_total", "counter", "Connector registrations accepted.", registrations_total);
  out += "# HELP warren_registrations_refused_total Connector registrations refused, by reason.\n"
         "# TYPE warren_registrations_refused_total counter\n";
  for (const auto& [reason, count] : registrations_refused)
    out += "warren_registrations_refused_total{reason=\"" + reason + "\"} " + std::to_string(count) + "\n";
  metric(out, "warren_protocol_errors_total", "counter", "Connections closed for malformed control frames.",
         protocol_errors);
  return out;
}

}  // namespace warren::core

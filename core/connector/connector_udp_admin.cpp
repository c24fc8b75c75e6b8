#include "core/connector/connector_udp_admin.hpp"

#include "core/admin/prometheus_text.hpp"
#include "core/connector/udp_flows_drop_log.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

namespace warren::core {

namespace {

/// Every drop reason with its count: the table's, then the shell's own.
std::vector<DropTotal> drops_by_reason(const UdpFlows& flows) {
  return udp_flows_drop_totals(flows.counters(), flows.drops());
}

void sample(std::string& out, std::string_view name, std::string_view labels, std::uint64_t value) {
  out.append(name);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ").append(std::to_string(value)).append("\n");
}

}  // namespace

void append_udp_metrics(std::string& out, const UdpFlows& flows) {
  using prometheus::family;
  family(out, "warren_connector_udp_flows_active", "gauge", "udp flows open (or opening) to the backend");
  sample(out, "warren_connector_udp_flows_active", "", flows.active());
  family(out, "warren_connector_udp_flows_total", "counter", "udp flows begun");
  sample(out, "warren_connector_udp_flows_total", "", flows.counters().flows_opened);
  family(out, "warren_connector_udp_flows_closed_total", "counter", "udp flows ended, by reason");
  for (auto reason : udp::all_close_reasons)
    sample(out, "warren_connector_udp_flows_closed_total", "reason=\"" + std::string(udp::name(reason)) + "\"",
           flows.counters().closed(reason));
  family(out, "warren_connector_udp_datagrams_dropped_total", "counter",
         "datagrams and flow frames not forwarded, by reason");
  for (const auto& [reason, n] : drops_by_reason(flows))
    sample(out, "warren_connector_udp_datagrams_dropped_total", "reason=\"" + std::string(reason) + "\"", n);
}

boost::json::object udp_status_json(const UdpFlows& flows) {
  boost::json::object o;
  o["flows_active"] = flows.active();
  o["flows_total"] = flows.counters().flows_opened;
  boost::json::object closed;
  for (auto reason : udp::all_close_reasons) closed[udp::name(reason)] = flows.counters().closed(reason);
  o["flows_closed"] = std::move(closed);
  boost::json::object dropped;
  for (const auto& [reason, n] : drops_by_reason(flows)) dropped[reason] = n;
  o["datagrams_dropped"] = std::move(dropped);
  return o;
}

std::uint64_t udp_flows_of(const UdpFlows& flows, const std::vector<std::uint32_t>& origins) {
  const auto* table = flows.table();
  std::uint64_t n = 0;
  if (table)
    for (auto origin : origins) n += table->origin_flows(origin);
  return n;
}

}  // namespace warren::core

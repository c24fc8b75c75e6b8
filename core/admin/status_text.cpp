#include "core/admin/status_text.hpp"

#include <warren/sdk/time.hpp>

#include <boost/json.hpp>

#include <cstdio>
#include <ctime>
#include <optional>

namespace warren::core {

namespace {

using boost::json::object;
using boost::json::value;

/// The string at `key`, or `otherwise` when it is absent, null or not a string.
std::string text(const object& o, const char* key, const std::string& otherwise = "-") {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : otherwise;
}

std::optional<double> number(const object& o, const char* key) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_number()) return std::nullopt;
  return v->to_number<double>();
}

std::string count(const object& o, const char* key) {
  auto n = number(o, key);
  return n ? std::to_string(static_cast<std::uint64_t>(*n)) : "-";
}

/// "2026-12-01T09:30:00.125Z" back to a time point; nullopt if it is not one.
std::optional<std::chrono::system_clock::time_point> parse_utc(const std::string& s) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &ms) != 7)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(ms);
}

/// How long ago `key`'s time was, in whole seconds ("2 min 13 s"); "-" without one.
std::string age(const object& o, const char* key, std::chrono::system_clock::time_point now) {
  auto at = parse_utc(text(o, key, ""));
  if (!at) return "-";
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now - *at);
  return sdk::human_duration(std::max(seconds, std::chrono::seconds(0)));
}

std::string rtt(const object& o) {
  auto ms = number(o, "rtt_ms");
  if (!ms) return "-";
  char out[32];
  std::snprintf(out, sizeof out, "%.1f ms", *ms);
  return out;
}

/// "peer_unreachable 40 s ago (127.0.0.1:7845)", "- (last failure: auth_failed)", or "-".
std::string last_reconnect(const object& leg, std::chrono::system_clock::time_point now) {
  if (auto* lost = leg.if_contains("last_reconnect"); lost && lost->is_object()) {
    const auto& e = lost->as_object();
    std::string out = text(e, "error", "lost") + " " + age(e, "time", now) + " ago";
    if (e.contains("address")) out += " (" + text(e, "address") + ")";
    return out;
  }
  auto error = text(leg, "last_error", "");
  return error.empty() ? "-" : "- (last failure: " + error + ")";
}

/// "ready; up 2 min 13 s (since 2026-12-01T09:30:00.000Z)".
std::string readiness(const object& doc, std::chrono::system_clock::time_point now, const char* not_ready) {
  auto* ready = doc.if_contains("ready");
  bool yes = ready && ready->is_bool() && ready->as_bool();
  return std::string(yes ? "ready" : not_ready) + "; up " + age(doc, "started", now) + " (since " +
         text(doc, "started") + ")";
}

const boost::json::array* array_at(const object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_array() ? &v->as_array() : nullptr;
}

const object& byte_counts(const object& o) {
  static const object none;
  auto* v = o.if_contains("bytes");
  return v && v->is_object() ? v->as_object() : none;
}

std::string bytes_at(const object& o, const char* key) {
  auto n = number(o, key);
  return n ? byte_text(static_cast<std::uint64_t>(*n)) : "-";
}

/// "1 flow", "3 flows", "- flows" when the count is missing.
std::string flows_text(const std::string& n) { return n + (n == "1" ? " flow" : " flows"); }

const object& object_at(const object& o, const char* key) {
  static const object none;
  auto* v = o.if_contains(key);
  return v && v->is_object() ? v->as_object() : none;
}

/// "idle 10, responses 2" from {reason: n}, the reasons with a count; "none" without.
std::string nonzero_counts(const object& by_reason) {
  std::string out;
  for (const auto& [reason, n] : by_reason) {
    if (!n.is_number() || n.to_number<double>() <= 0) continue;
    out += (out.empty() ? "" : ", ") + std::string(reason) + " " +
           std::to_string(static_cast<std::uint64_t>(n.to_number<double>()));
  }
  return out.empty() ? "none" : out;
}

/// A connector's udp flows (its document's "udp"): "udp flows: 2 open, 14 in
/// all; 14 datagrams (1.2 KiB) to the backend, 12 (2.0 KiB) from it" and a
/// line of flows closed and datagrams dropped by reason.
std::string udp_flows_text(const object& udp) {
  const auto& datagrams = object_at(udp, "datagrams");
  const auto& bytes = object_at(udp, "bytes");
  return "udp flows: " + count(udp, "flows_active") + " open, " + count(udp, "flows_total") + " in all; " +
         count(datagrams, "to_backend") + " datagrams (" + bytes_at(bytes, "to_backend") + ") to the backend, " +
         count(datagrams, "from_backend") + " (" + bytes_at(bytes, "from_backend") + ") from it\n" +
         "flows closed: " + nonzero_counts(object_at(udp, "flows_closed")) +
         "; datagrams dropped: " + nonzero_counts(object_at(udp, "datagrams_dropped"));
}

}  // namespace

std::string status_role(const object& doc) {
  auto role = text(doc, "role", "");
  if (role == "edge" || role == "connector") return role;
  if (doc.contains("tunnels")) return "edge";
  if (doc.contains("legs")) return "connector";
  return "";
}

std::string byte_text(std::uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  char out[32];
  std::snprintf(out, sizeof out, "%.1f %s", value, units[unit]);
  return out;
}

std::string text_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string connector_status_text(const object& doc, std::chrono::system_clock::time_point now) {
  auto tunnel = text(doc, "tunnel", "");
  std::string out = "connector " + text(doc, "connector_id") + ", " +
                    (tunnel.empty() ? std::string("quick tunnel") : "tunnel '" + tunnel + "'");
  if (auto file = text(doc, "config_file", ""); !file.empty()) out += ", config " + file;
  out += "\n" + readiness(doc, now, "not ready (no leg registered)");
  // A udp tunnel's connector carries flows; its legs' only stream is the
  // udp stream inside the tunnel, so streams are not what to show.
  const auto* udp = doc.if_contains("udp");
  const bool flows = udp && udp->is_object();
  if (flows) {
    out += "\n" + udp_flows_text(udp->as_object());
  } else if (doc.contains("streams_total")) {
    const auto& bytes = byte_counts(doc);
    out += "; streams: " + count(doc, "streams_open") + " open, " + count(doc, "streams_total") + " in all; " +
           bytes_at(bytes, "to_backend") + " to the backend, " + bytes_at(bytes, "from_backend") + " from it";
  }
  out += "\n\n";
  std::vector<std::vector<std::string>> rows{
      {"LEG", "STATE", "EDGE", "TRANSPORT", "RTT", "SINCE", "STREAMS", "LAST RECONNECT"}};
  if (const auto* legs = array_at(doc, "legs"))
    for (const auto& v : *legs) {
      if (!v.is_object()) continue;
      const auto& leg = v.as_object();
      // A udp tunnel's leg: its flows (an older connector's document has none: "-").
      auto carried = leg.contains("flows_open") ? flows_text(count(leg, "flows_open"))
                     : flows                    ? std::string("-")
                                                : count(leg, "streams_open");
      rows.push_back({count(leg, "leg"), text(leg, "state"), text(leg, "address"), text(leg, "transport"), rtt(leg),
                      age(leg, "since", now), carried, last_reconnect(leg, now)});
    }
  return out + text_table(rows);
}

std::string edge_status_text(const object& doc, std::chrono::system_clock::time_point now) {
  std::string out = "edge " + text(doc, "edge_id");
  if (auto file = text(doc, "config_file", ""); !file.empty()) out += ", config " + file;
  out += "\n" + readiness(doc, now, "not ready (not listening)") + "\n";
  std::string listeners;
  if (const auto* all = array_at(doc, "listeners"))
    for (const auto& v : *all) {
      if (!v.is_object()) continue;
      const auto& l = v.as_object();
      auto legs = count(l, "legs");
      listeners += (listeners.empty() ? "" : ", ") + text(l, "transport") + " " + text(l, "address") + " (" + legs +
                   (legs == "1" ? " leg)" : " legs)");
    }
  out += "listeners: " + (listeners.empty() ? std::string("none") : listeners) + "\n\n";

  std::vector<std::vector<std::string>> tunnels{
      {"TUNNEL", "PUBLIC", "REPLICAS", "STREAMS", "TO CONNECTOR", "FROM CONNECTOR"}};
  std::vector<std::vector<std::string>> legs{
      {"TUNNEL", "CONNECTOR", "LEG", "STATE", "TRANSPORT", "REMOTE", "RTT", "SINCE", "STREAMS"}};
  if (const auto* all = array_at(doc, "tunnels"))
    for (const auto& v : *all) {
      if (!v.is_object()) continue;
      const auto& t = v.as_object();
      const auto& bytes = byte_counts(t);
      auto id = text(t, "id");
      auto public_address = text(t, "public_address");
      auto streams = count(t, "streams_open");
      if (text(t, "kind") == "udp") {
        // A udp tunnel carries flows, not streams: say so in both columns.
        public_address += " (udp)";
        auto* flows = t.if_contains("flows");
        streams = flows_text(flows && flows->is_object() ? count(flows->as_object(), "active") : std::string("-"));
      }
      tunnels.push_back({id, public_address, count(t, "replicas"), streams, bytes_at(bytes, "to_connector"),
                         bytes_at(bytes, "from_connector")});
      if (const auto* tunnel_legs = array_at(t, "legs"))
        for (const auto& lv : *tunnel_legs) {
          if (!lv.is_object()) continue;
          const auto& leg = lv.as_object();
          // A udp tunnel's leg: its flows (its udp stream is no public connection).
          auto carried = leg.contains("flows_open") ? flows_text(count(leg, "flows_open")) : count(leg, "streams_open");
          legs.push_back({id, text(leg, "connector_id"), count(leg, "leg"), text(leg, "state"), text(leg, "transport"),
                          text(leg, "remote"), rtt(leg), age(leg, "since", now), carried});
        }
    }
  out += tunnels.size() > 1 ? text_table(tunnels) : "no tunnels\n";
  out += "\n";
  out += legs.size() > 1 ? text_table(legs) : "no legs registered\n";
  return out;
}

}  // namespace warren::core

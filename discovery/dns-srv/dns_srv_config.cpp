#include "discovery/dns-srv/dns_srv_config.hpp"

#include <boost/asio/ip/address.hpp>

#include <set>

namespace warren::dns_srv {
namespace {

using C = DnsSrvConfig;
using namespace std::chrono_literals;

/// The elements of array `key` that fail `valid`, each named in one error at
/// the key; and duplicates.
template <typename Valid>
void check_each(const std::vector<std::string>& items, const char* key, const sdk::CheckContext& at, Valid valid) {
  std::set<std::string> seen;
  for (const auto& item : items) {
    std::string why;
    if (!valid(item, why)) {
      at.error(key, std::string("'") + key + "' entry \"" + item + "\": " + why);
    } else if (!seen.insert(item).second) {
      at.error(key, std::string("'") + key + "' lists \"" + item + "\" twice");
    }
  }
}

bool valid_name(const std::string& name, std::string& why) {
  if (name.empty() || name == ".") {
    why = "empty name";
    return false;
  }
  for (char c : name) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) {
      why = "invalid character '" + std::string(1, c) + "' in a DNS name";
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<sdk::Endpoint> parse_resolver(const std::string& text, std::string* why) {
  auto is_ip = [](const std::string& host) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(host, ec);
    return !ec;
  };
  if (is_ip(text)) return sdk::Endpoint{text, 53};  // bare IPv4 or IPv6
  std::string reason;
  auto endpoint = sdk::parse_endpoint(text, &reason);
  if (!endpoint) {
    if (why) *why = reason;
    return std::nullopt;
  }
  if (!is_ip(endpoint->host)) {
    if (why) *why = "a resolver must be an IP address, not a name";
    return std::nullopt;
  }
  return endpoint;
}

DnsSrvSchema::DnsSrvSchema() : ConfigSchema("edges from DNS SRV records (RFC 2782), looked up with c-ares") {
  string_list("name", &C::name,
              "SRV name to look up, e.g. \"_warren._udp.example.com\"; a list looks up each, one region per name");
  required();
  string_list("resolvers", &C::resolvers,
              "DNS servers, \"IP\" or \"IP:port\" (port 53 by default); empty: the system's, from /etc/resolv.conf");
  duration("timeout", &C::timeout, "how long to wait for one DNS reply (c-ares doubles it on each retry round)",
           {.min = 10ms, .max = 60s});
  integer("attempts", &C::attempts, "how many times each query is sent before the resolver counts as down",
          {.min = 1, .max = 10});
  duration("min_ttl", &C::min_ttl, "shortest time an answer is kept, whatever its DNS TTL says",
           {.min = 0s, .max = 24h});
  duration("max_ttl", &C::max_ttl, "longest time an answer is kept before asking again, whatever its DNS TTL says",
           {.min = 1ms, .max = 7 * 24h});
  duration("max_stale", &C::max_stale,
           "how long past its TTL the last good answer is still served while lookups fail (RFC 8767)",
           {.min = 0s, .max = 7 * 24h});
  string_list("fallback", &C::fallback,
              "edges, \"host:port\", used only when DNS gives none (names resolve through the same resolvers)");
  choice("ip_version", &C::ip_version, {{"auto", IpVersion::automatic}, {"4", IpVersion::v4}, {"6", IpVersion::v6}},
         "address families to resolve targets to: \"4\" (A), \"6\" (AAAA) or \"auto\" (both, IPv4 first)");
  check([](const C& c, const sdk::CheckContext& at) {
    if (c.name.empty()) at.error("name", "'name' is empty; give at least one SRV name");
    check_each(c.name, "name", at, valid_name);
    check_each(c.resolvers, "resolvers", at,
               [](const std::string& r, std::string& why) { return parse_resolver(r, &why).has_value(); });
    check_each(c.fallback, "fallback", at,
               [](const std::string& f, std::string& why) { return sdk::parse_endpoint(f, &why).has_value(); });
    if (c.max_ttl < c.min_ttl)
      at.error("max_ttl", "'max_ttl' (" + sdk::format_duration(c.max_ttl) + ") must not be less than 'min_ttl' (" +
                              sdk::format_duration(c.min_ttl) + ")");
  });
}

std::optional<DnsSrvConfig> DnsSrvSchema::read(const sdk::ConfigTable& table, sdk::Diagnostics& diagnostics) const {
  sdk::ConfigTable copy = table;
  for (auto& entry : copy.entries) {
    auto& value = entry.value;
    if (entry.key == "name" && std::holds_alternative<std::string>(value.value)) {
      sdk::ConfigValue item{std::get<std::string>(value.value), value.where};
      value.value = sdk::ConfigValue::Array{std::move(item)};
    } else if (entry.key == "ip_version" && std::holds_alternative<std::int64_t>(value.value)) {
      // Any integer, so 5 reads as "not one of auto, 4, 6" rather than a type error.
      value.value = std::to_string(std::get<std::int64_t>(value.value));
    }
  }
  return ConfigSchema::read(copy, diagnostics);
}

const DnsSrvSchema& dns_srv_schema() {
  static const DnsSrvSchema schema;
  return schema;
}

}  // namespace warren::dns_srv

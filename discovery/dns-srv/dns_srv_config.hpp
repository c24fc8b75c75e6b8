#pragma once
// The `dns-srv` table: keys, defaults, ranges and doc lines, declared once.
// `name` is "one SRV name, or a list of them (one region each)"; the SDK's
// schema has no "string or list" type yet, so DnsSrvSchema::read turns a
// plain string into a one-element list in a copy of the table first (and an
// integer ip_version, 4 or 6, into its string) and then reads as usual.

#include "discovery/dns-srv/answer_cache.hpp"

#include <warren/sdk/config_schema.hpp>
#include <warren/sdk/endpoint.hpp>

#include <optional>
#include <string>
#include <vector>

namespace warren::dns_srv {

enum class IpVersion { automatic, v4, v6 };

struct DnsSrvConfig {
  std::vector<std::string> name;       ///< SRV names; one region each
  std::vector<std::string> resolvers;  ///< "IP" or "IP:port"; empty: the system's (/etc/resolv.conf)
  sdk::Duration timeout = std::chrono::seconds(2);
  std::int64_t attempts = 2;
  sdk::Duration min_ttl = std::chrono::seconds(5);
  sdk::Duration max_ttl = std::chrono::minutes(5);
  sdk::Duration max_stale = std::chrono::hours(1);
  std::vector<std::string> fallback;  ///< "host:port", used when DNS gives nothing
  IpVersion ip_version = IpVersion::automatic;

  CacheLimits limits() const { return {min_ttl, max_ttl, max_stale}; }
};

/// A resolver as written: "127.0.0.1", "127.0.0.1:5353", "::1" or
/// "[::1]:5353"; the port defaults to 53. Only IP literals: a resolver's own
/// name could not be looked up. nullopt with `why` set otherwise.
std::optional<sdk::Endpoint> parse_resolver(const std::string& text, std::string* why);

/// The schema, with the string-or-list pre-pass on `name`.
class DnsSrvSchema : public sdk::ConfigSchema<DnsSrvConfig> {
 public:
  DnsSrvSchema();
  /// Hides the base read: normalises `name` and `ip_version`, then reads.
  std::optional<DnsSrvConfig> read(const sdk::ConfigTable& table, sdk::Diagnostics& diagnostics) const;
};

const DnsSrvSchema& dns_srv_schema();

}  // namespace warren::dns_srv

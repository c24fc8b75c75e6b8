#pragma once
// The last good answer for one SRV name, and how usable it is at `now`.
// Sans-io: it reads no clock. Freshness follows the DNS TTL, clamped to
// [min_ttl, max_ttl]; once expired, the answer may still be served while
// lookups fail, for at most max_stale past its expiry ("serve stale",
// RFC 8767 section 4: staleness counts from the TTL's end, not the fetch).

#include "discovery/dns-srv/srv_order.hpp"

#include <warren/sdk/time.hpp>

#include <boost/asio/ip/address.hpp>

#include <optional>
#include <vector>

namespace warren::dns_srv {

/// An SRV record with the addresses its target resolved to.
struct ResolvedTarget {
  SrvRecord srv;
  std::vector<boost::asio::ip::address> addresses;  ///< IPv4 first, then IPv6; never empty in a stored answer
  friend bool operator==(const ResolvedTarget&, const ResolvedTarget&) = default;
};

struct CacheLimits {
  sdk::Duration min_ttl = std::chrono::seconds(5);
  sdk::Duration max_ttl = std::chrono::minutes(5);
  sdk::Duration max_stale = std::chrono::hours(1);
};

enum class Freshness {
  none,     ///< nothing stored (never answered, or the name went away)
  fresh,    ///< within its (clamped) TTL: serve it without asking
  stale,    ///< past its TTL but within max_stale: ask again; serve it if asking fails
  expired,  ///< past max_stale: never served
};

const char* to_string(Freshness f);

class AnswerCache {
 public:
  explicit AnswerCache(CacheLimits limits) : limits_(limits) {}

  /// Keeps `targets` as the answer fetched at `now`, valid for `ttl`
  /// clamped to [min_ttl, max_ttl]. Returns the TTL it applied.
  sdk::Duration store(std::vector<ResolvedTarget> targets, sdk::Duration ttl, sdk::TimePoint now);
  /// Drops the answer: the DNS said the name has no usable records.
  void forget() { answer_.reset(); }

  Freshness freshness(sdk::TimePoint now) const;
  /// The answer when fresh or stale at `now`, else null.
  const std::vector<ResolvedTarget>* usable(sdk::TimePoint now) const;
  /// When the stored answer was fetched; nullopt when none is stored.
  std::optional<sdk::TimePoint> fetched_at() const;
  /// When it stops being fresh / stops being served; valid only while stored.
  sdk::TimePoint expires_at() const { return answer_->expires_at; }
  sdk::TimePoint stale_until() const { return answer_->expires_at + limits_.max_stale; }

 private:
  struct Stored {
    std::vector<ResolvedTarget> targets;
    sdk::TimePoint fetched_at;
    sdk::TimePoint expires_at;
  };
  CacheLimits limits_;
  std::optional<Stored> answer_;
};

}  // namespace warren::dns_srv

#pragma once
// The brain of `dns-srv`, sans-io: which SRV names need asking at `now`,
// what each lookup's outcome means (cache it, serve the stale answer, drop
// the name, skip a target), the edges a resolve returns (RFC 2782 order per
// name, names interleaved so consecutive legs land in distinct regions), the
// error when there are none, and the log lines, each problem said once.
// The Asio shell (dns_srv_discovery.cpp) runs the c-ares queries and feeds
// their outcomes in; tests feed outcomes in virtual time.

#include "discovery/dns-srv/answer_cache.hpp"

#include <warren/sdk/discovery.hpp>
#include <warren/sdk/log.hpp>
#include <warren/sdk/random.hpp>

#include <optional>
#include <string>
#include <vector>

namespace warren::dns_srv {

enum class Outcome {
  answered,       ///< the resolver answered with records
  no_records,     ///< the resolver answered: no such name (NXDOMAIN), or no records of that type
  could_not_ask,  ///< no usable answer: timeout, refused, SERVFAIL, malformed reply …
};

/// A target's A/AAAA lookups, merged.
struct TargetLookup {
  SrvRecord srv;
  Outcome outcome = Outcome::answered;
  std::vector<boost::asio::ip::address> addresses;  ///< filtered by ip_version; empty unless answered
  sdk::Duration ttl{};                              ///< the shortest TTL of those address records
  std::string detail;                               ///< why not answered: "NXDOMAIN", "timeout" …
};

/// One SRV name's lookup: the SRV query, then its targets.
struct NameLookup {
  Outcome outcome = Outcome::answered;
  std::string detail;  ///< why not answered
  sdk::Duration srv_ttl{};
  std::vector<TargetLookup> targets;
};

struct LogLine {
  sdk::LogLevel level;
  std::string text;
};

/// What a resolve completes with.
struct ResolveResult {
  sdk::error_code error;  ///< errc::no_edges or errc::discovery_failed when `edges` is empty
  std::vector<sdk::EdgeAddress> edges;
  bool use_fallback = false;  ///< DNS gave nothing and a fallback list is configured
  std::string why;            ///< when empty-handed: every name, what went wrong, which resolver
};

/// The region label of fallback addresses.
inline constexpr const char* kFallbackRegion = "fallback";

class SrvDiscoveryEngine {
 public:
  /// `names`: the SRV names, one region each; `resolver`: how the resolvers
  /// are named in messages ("127.0.0.1:5353"); `has_fallback`: whether a
  /// fallback list is configured.
  SrvDiscoveryEngine(std::vector<std::string> names, CacheLimits limits, std::string resolver, bool has_fallback);

  /// Indices of the names to ask now: every name without a fresh answer.
  std::vector<std::size_t> names_to_look_up(sdk::TimePoint now) const;
  /// The outcome of asking name `index`.
  void handle_lookup(std::size_t index, NameLookup lookup, sdk::TimePoint now);
  /// The edges from every name's usable answer (fresh, stale, or this
  /// round's partial one), in order; ends the round.
  ResolveResult result(sdk::TimePoint now, sdk::RandomSource& random);
  /// The fallback list's resolution, used when `result` had `use_fallback`.
  ResolveResult fallback_result(const ResolveResult& dns, const std::vector<TargetLookup>& fallback);

  /// Log lines produced since the last call, oldest first.
  std::vector<LogLine> take_log();

  const std::string& name(std::size_t index) const { return names_[index].name; }
  std::size_t size() const { return names_.size(); }
  const AnswerCache& cache(std::size_t index) const { return names_[index].cache; }

 private:
  struct NameState {
    std::string name;
    AnswerCache cache;
    std::optional<Outcome> round;           ///< this round's outcome; nullopt when not asked
    std::string round_detail;               ///< why this round's lookup gave nothing usable
    std::vector<ResolvedTarget> partial;    ///< this round's answer when some of it could not be asked
    std::string last_warning;               ///< said once until it changes or a lookup succeeds
    std::vector<ResolvedTarget> last_told;  ///< the answer last logged, to log changes only
  };

  void warn_once(NameState& state, std::string text);
  void answered(NameState& state, NameLookup& lookup, sdk::TimePoint now);
  const std::vector<ResolvedTarget>* serve(NameState& state, sdk::TimePoint now);
  std::vector<sdk::EdgeAddress> edges_of(const NameState& state, const std::vector<ResolvedTarget>& targets,
                                         sdk::RandomSource& random) const;

  std::vector<NameState> names_;
  std::string resolver_;
  bool has_fallback_;
  CacheLimits limits_;
  std::string last_empty_;  ///< the last "no edges" text logged at warn level
  std::vector<LogLine> log_;
};

}  // namespace warren::dns_srv

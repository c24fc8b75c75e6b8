#pragma once
// Who may try to register now, before the registry looks at the request.
// Sans-io: the edge passes the connector's source, the tunnel id it names
// and `now`; it gets a decision with a reason, a retry-after and whether to
// log. Three token buckets (rate and burst from the edge config):
//  - per source (an IPv4 address, an IPv6 /64): every registration attempt
//    counts, refused ones too, so a source that hammers stays throttled;
//  - per tunnel id: registrations that presented the right credentials (a
//    reconnect loop, two processes fighting over one connector_id). Wrong
//    credentials never drain it, so a guesser cannot lock a tunnel's own
//    connectors out;
//  - failed credentials per source: after auth_failures_per_source wrong
//    tokens the source gets one more try per auth_failure_interval and is
//    refused before its token is checked meanwhile (rathole #324 and fail2ban
//    do the same). A tunnel id guessed at from many sources also has a
//    failure bucket; once empty, only sources with a failure on record are
//    refused: a source with a clean record (the tunnel's own connector on
//    another address) is never slowed by someone else's guessing.
// Log lines: one per source per log_interval, with the count of refusals
// and failures since its last line; never one per attempt.
// Memory: entries for sources and tunnel ids whose buckets are not full yet
// or whose log interval runs; sweep() forgets the rest once a second.

#include "core/edge/public_admission.hpp"

#include <warren/sdk/time.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace warren::core {

struct RegistrationLimits {
  std::uint32_t rate_per_source = 20;   ///< registration attempts per second, sustained
  std::uint32_t burst_per_source = 64;  ///< bucket size: 16 connectors of 4 legs behind one address
  std::uint32_t rate_per_tunnel = 20;   ///< authenticated registrations per second per tunnel id
  std::uint32_t burst_per_tunnel = 256;
  std::uint32_t auth_failures_per_source = 10;                    ///< wrong credentials before a source is slowed
  sdk::Duration auth_failure_interval = std::chrono::seconds(6);  ///< then one more try per this
  std::uint32_t auth_failures_per_tunnel = 100;  ///< over all sources, before failed sources are slowed
  sdk::Duration auth_failure_interval_per_tunnel = std::chrono::seconds(1);
  sdk::Duration log_interval = std::chrono::seconds(10);  ///< one line per source per interval
};

/// Why a registration was refused before its credentials were looked at.
/// Names are metric labels: stable.
enum class RegistrationThrottle {
  none,
  source_rate,           ///< the source registers faster than rate_per_source
  tunnel_rate,           ///< the tunnel's connectors register faster than rate_per_tunnel
  source_auth_failures,  ///< the source presented wrong credentials too often
  tunnel_auth_failures,  ///< the tunnel id is being guessed at, and this source failed before
};
inline constexpr RegistrationThrottle all_registration_throttles[] = {
    RegistrationThrottle::source_rate, RegistrationThrottle::tunnel_rate, RegistrationThrottle::source_auth_failures,
    RegistrationThrottle::tunnel_auth_failures};
std::string_view throttle_name(RegistrationThrottle reason);
/// A sentence for the connector naming the limit and its key.
std::string throttle_sentence(RegistrationThrottle reason, const RegistrationLimits& limits);

/// A log line owed for a source: write it when `log` is set.
struct SourceLogDecision {
  bool log = false;
  std::uint64_t throttled = 0;  ///< refusals before the credential check since the last line, this one included
  std::uint64_t failures = 0;   ///< wrong credentials since the last line, this one included
};

struct RegistrationDecision {
  RegistrationThrottle throttle = RegistrationThrottle::none;
  sdk::Duration retry_after{};  ///< when a try could pass (at least 1 s: connectors need not spin)
  SourceLogDecision log;
  bool admitted() const { return throttle == RegistrationThrottle::none; }
};

class RegistrationAdmission {
 public:
  explicit RegistrationAdmission(RegistrationLimits limits) : limits_(limits) {}

  /// A registration attempt from `source` naming `tunnel_id`, before its
  /// credentials are checked. Takes a token of the source's bucket.
  RegistrationDecision check(const SourceKey& source, const std::string& tunnel_id, sdk::TimePoint now);
  /// The attempt that check() let through presented the right credentials
  /// (admitted or refused for another reason): it takes a tunnel token.
  void authenticated(const std::string& tunnel_id, sdk::TimePoint now);
  /// The attempt that check() let through presented wrong credentials.
  SourceLogDecision failed(const SourceKey& source, const std::string& tunnel_id, sdk::TimePoint now);

  std::size_t tracked_sources() const { return sources_.size(); }
  std::size_t tracked_tunnels() const { return tunnels_.size(); }
  const RegistrationLimits& limits() const { return limits_; }

 private:
  struct Bucket {
    double tokens = 0;
    sdk::TimePoint refilled{};
    /// Refills at `per_second` up to `size`; true if it is full now.
    bool refill(sdk::TimePoint now, double per_second, double size);
    /// Time until a token is there at `per_second`.
    sdk::Duration wait(double per_second) const;
  };
  struct Source {
    Bucket attempts;
    Bucket failures;
    std::optional<sdk::TimePoint> logged;
    std::uint64_t throttled = 0;
    std::uint64_t failed = 0;
  };
  struct Tunnel {
    Bucket registrations;
    Bucket failures;
  };
  struct Hash {
    std::size_t operator()(const SourceKey& k) const { return k.hash(); }
  };

  Source& source_at(const SourceKey& key, sdk::TimePoint now);
  Tunnel& tunnel_at(const std::string& id, sdk::TimePoint now);
  /// The source's log line, if one is due; counts this event either way.
  SourceLogDecision note(Source& source, sdk::TimePoint now);
  RegistrationDecision refuse(Source& source, RegistrationThrottle reason, sdk::Duration wait, sdk::TimePoint now);
  void sweep(sdk::TimePoint now);
  double failure_rate_per_source() const;
  double failure_rate_per_tunnel() const;

  RegistrationLimits limits_;
  std::unordered_map<SourceKey, Source, Hash> sources_;
  std::unordered_map<std::string, Tunnel> tunnels_;
  sdk::TimePoint last_sweep_{};
};

}  // namespace warren::core

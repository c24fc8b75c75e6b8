#pragma once
// Who may open a public connection now, and why not. Sans-io: the edge
// passes the client's source and `now`, and gets a decision with a reason
// and whether to log it. Keeps a client's share bounded and fair:
//  - per source (an IPv4 address, an IPv6 /64): connections held at once,
//    and a token bucket on new connections (attempts count, refused ones too,
//    so a flooder stays throttled for as long as it floods);
//  - per tunnel and across all tunnels: streams open at once.
// Memory: one entry per source with a connection open or a bucket not yet
// refilled (sweep() forgets the rest), one counter per tunnel.

#include <boost/asio/ip/address.hpp>

#include <warren/sdk/time.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace warren::core {

/// Why a public connection was refused. Names are metric labels: stable.
enum class PublicRefusal {
  none,
  source_limit,  ///< the source holds max_connections_per_source already
  source_rate,   ///< the source opens connections faster than its rate
  tunnel_limit,  ///< the tunnel has max_streams_per_tunnel open
  total_limit,   ///< the edge has max_streams_total open
  no_live_leg,   ///< no connector leg can take the stream
};
inline constexpr PublicRefusal all_public_refusals[] = {PublicRefusal::source_limit, PublicRefusal::source_rate,
                                                       PublicRefusal::tunnel_limit, PublicRefusal::total_limit,
                                                       PublicRefusal::no_live_leg};
std::string_view refusal_name(PublicRefusal reason);

/// A client's source as the limits see it: the IPv4 address, or the /64 of
/// an IPv6 address (one subscriber usually gets a whole /64).
class SourceKey {
 public:
  static SourceKey of(const boost::asio::ip::address& address);
  std::string to_string() const;
  bool operator==(const SourceKey& other) const { return bytes_ == other.bytes_ && v6_ == other.v6_; }
  std::size_t hash() const;

 private:
  std::array<std::uint8_t, 8> bytes_{};
  bool v6_ = false;
};

struct PublicLimits {
  std::uint32_t max_connections_per_source = 256;
  std::uint32_t max_connection_rate_per_source = 100;  ///< new connections per second, sustained
  std::uint32_t connection_burst_per_source = 200;     ///< bucket size
  std::uint32_t max_streams_per_tunnel = 1000;
  std::uint32_t max_streams_total = 10000;
  sdk::Duration log_interval = std::chrono::seconds(10);  ///< one refusal line per source per interval
};

/// A sentence for the log naming the limit and its key, e.g. "this source
/// already holds 256 connections (max_connections_per_source)".
std::string refusal_sentence(PublicRefusal reason, const PublicLimits& limits);

struct AdmissionDecision {
  PublicRefusal refusal = PublicRefusal::none;
  bool log = false;              ///< write a log line for this refusal now
  std::uint64_t suppressed = 0;  ///< refusals of this source not logged since its last line
  bool admitted() const { return refusal == PublicRefusal::none; }
};

class PublicAdmission {
 public:
  explicit PublicAdmission(PublicLimits limits) : limits_(limits) {}

  /// A new public connection from `source` to `tunnel` at `now`. When
  /// admitted, the connection holds its slots until release().
  AdmissionDecision admit(const SourceKey& source, const std::string& tunnel, sdk::TimePoint now);
  /// An admitted connection ended.
  void release(const SourceKey& source, const std::string& tunnel);
  /// An admitted connection could not be forwarded after all (e.g. no live
  /// leg): frees its slots and decides on logging like a refusal.
  AdmissionDecision refuse_admitted(const SourceKey& source, const std::string& tunnel, PublicRefusal reason,
                                    sdk::TimePoint now);

  std::uint32_t streams_total() const { return streams_total_; }
  std::uint32_t connections_of(const SourceKey& source) const;
  std::size_t tracked_sources() const { return sources_.size(); }
  const PublicLimits& limits() const { return limits_; }

 private:
  struct Source {
    std::uint32_t connections = 0;
    double tokens = 0;
    sdk::TimePoint refilled;
    std::optional<sdk::TimePoint> logged;
    std::uint64_t suppressed = 0;
  };
  struct Hash {
    std::size_t operator()(const SourceKey& k) const { return k.hash(); }
  };

  Source& source_at(const SourceKey& key, sdk::TimePoint now);
  bool take_token(Source& source, sdk::TimePoint now) const;
  AdmissionDecision refused(Source& source, PublicRefusal reason, sdk::TimePoint now);
  void sweep(sdk::TimePoint now);

  PublicLimits limits_;
  std::unordered_map<SourceKey, Source, Hash> sources_;
  std::map<std::string, std::uint32_t, std::less<>> tunnel_streams_;
  std::uint32_t streams_total_ = 0;
  sdk::TimePoint last_sweep_{};
};

}  // namespace warren::core

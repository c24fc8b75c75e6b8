#pragma once
// The `ip-rotation` address policy: which edge address each HA leg uses, and
// when it moves. cloudflared's edgediscovery rules (GetAddr sticks a leg to
// its address, GetDifferentAddr rotates it, GiveBack returns it to the pool,
// a connectivity error after max_edge_addr_retries), plus what its users ask
// for: an address that failed is avoided by every leg only for
// `give_back_after`, then given back, and legs spread over distinct
// addresses, then distinct regions, whenever there are enough.
//
// Errors by class (stable names, sdk::name):
//   count_on (default: dial, handshake, TLS, QUIC-blocked, idle and
//     heartbeat timeouts, and an edge found dead from ICMP): move on, and
//     count the failure against the address and the leg;
//   keep_on (default: duplicate_registration, rate_limited): the edge is
//     fine, the leg must only wait: keep the address;
//   anything else: move on without a mark.
//
// Choosing, in order: the leg's own address while it works and no other leg
// holds it (sticky); else a free address (held by no other leg) that is
// healthy (no counted failure within give_back_after), in a region no other
// leg uses when there is one, of the best SRV priority, weighted-random by
// SRV weight; else the free address whose last failure is oldest (it is
// given back soonest), flagged `exhausted` so the supervisor asks discovery
// again. A leg shares an address another leg holds only when every address
// is held, or when every free one failed lately and the leg itself failed
// twice in a row on its own: then a held address with no recent failure
// (a live edge) beats redialing a dead one.

#include <warren/sdk/config_schema.hpp>
#include <warren/sdk/policy.hpp>

#include <string>
#include <vector>

namespace warren::ip_rotation {

struct RotationConfig {
  std::uint32_t max_edge_addr_retries = 8;
  sdk::Duration give_back_after = std::chrono::minutes(1);
  std::vector<std::string> count_on = {"dial_failed",  "handshake_timeout", "tls_failed",      "quic_broken",
                                       "idle_timeout", "heartbeat_timeout", "peer_unreachable"};
  std::vector<std::string> keep_on = {"duplicate_registration", "rate_limited"};
};

/// The policy's keys: types, defaults (RotationConfig's), ranges and docs.
const sdk::ConfigSchema<RotationConfig>& rotation_schema();

class IpRotationPolicy final : public sdk::AddressPolicy {
 public:
  /// `config` as rotation_schema() accepts it; unknown error names in the
  /// lists are ignored here (the schema refuses them).
  explicit IpRotationPolicy(RotationConfig config);

  sdk::AddressChoice choose(sdk::AddressState& state, sdk::AddressHealth& health,
                            std::span<const sdk::EdgeAddress> addresses, unsigned leg,
                            std::span<const std::size_t> taken, sdk::TimePoint now,
                            sdk::RandomSource& random) const override;
  sdk::AddressAction on_error(sdk::AddressState& state, sdk::AddressHealth& health, const sdk::EdgeAddress& address,
                              const sdk::error_code& error, sdk::TimePoint now) const override;
  void on_connected(sdk::AddressState& state, sdk::AddressHealth& health, const sdk::EdgeAddress& address,
                    sdk::TimePoint now) const override;

  /// How `error` is classified (the lists above).
  sdk::AddressAction classify(const sdk::error_code& error) const;
  /// True while `address` has a counted failure younger than give_back_after.
  bool avoided(const sdk::AddressHealth& health, const sdk::EdgeAddress& address, sdk::TimePoint now) const;
  const RotationConfig& config() const { return config_; }

 private:
  RotationConfig config_;
  std::vector<sdk::errc> count_on_, keep_on_;
};

}  // namespace warren::ip_rotation

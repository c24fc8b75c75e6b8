#pragma once
// Policy plugins: sans-io decisions for the connector's supervisor. Every
// method is a function of (state the caller owns, event, now, injected
// random source) -> decision. No clock, no socket, no global randomness.
//
// One policy plugin may play several roles: the supervisor asks each
// configured [[policy]] for the roles it offers, first offer wins.

#include <warren/sdk/discovery.hpp>
#include <warren/sdk/error.hpp>
#include <warren/sdk/plugin_object.hpp>
#include <warren/sdk/random.hpp>
#include <warren/sdk/time.hpp>

#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace warren::sdk {

/// Per-leg state a backoff policy reads and updates; owned by the caller.
struct BackoffState {
  std::uint32_t failures = 0;                ///< consecutive failures so far
  std::optional<TimePoint> connected_since;  ///< set by on_connected, cleared by next_delay
  Duration last_delay{};                     ///< the previous delay (for decorrelated schemes)
};

/// How long to wait before the next attempt.
class BackoffPolicy {
 public:
  virtual ~BackoffPolicy() = default;
  /// The attempt succeeded at `now`.
  virtual void on_connected(BackoffState& state, TimePoint now) const = 0;
  /// An attempt failed (or a live connection was lost) at `now`: the delay
  /// before the next attempt, or nullopt to give up.
  virtual std::optional<Duration> next_delay(BackoffState& state, TimePoint now, RandomSource& random) const = 0;
  /// The largest delay this policy can return; a bound the caller may check.
  virtual Duration max_delay() const = 0;
};

/// What to do with a leg's edge address after an error.
enum class AddressAction {
  keep,              ///< retry the same address
  rotate,            ///< move to another address, no mark against this one
  rotate_and_count,  ///< move on and count a failure against this address
};

/// Per-leg address state; owned by the caller, read and written only by the
/// address policy (the caller resets it to a default-constructed value when
/// a leg starts over, and remaps `current` when discovery answers again).
struct AddressState {
  std::optional<std::size_t> current;  ///< index into the last address list
  std::uint32_t failures_here = 0;     ///< counted failures on `current`, in a row
  std::uint32_t failures_on_leg = 0;   ///< counted failures since the leg last registered, any address
  bool move_on = false;                ///< the last error asked to leave `current`
  /// Set by on_error when this error completed the policy's limit of counted
  /// failures on the leg (ip-rotation: `max_edge_addr_retries`, as
  /// cloudflared's connectivity error); false after every other call. The
  /// caller hands it to the fallback role (FallbackState::connectivity_error).
  bool connectivity_error = false;
};

/// What an address policy remembers about edge addresses across legs (ip-rotation:
/// recent failures, to avoid an address until it is given back). One per
/// connector, owned by the caller, read and written only by the address policy.
struct AddressHealth {
  struct Record {
    boost::asio::ip::address address;  ///< with `port`: the endpoint; names and regions do not matter
    std::uint16_t port = 0;
    std::uint32_t failures = 0;  ///< counted failures since the address last worked or was given back
    TimePoint last_failure{};
  };
  std::vector<Record> records;
};

/// The answer to AddressPolicy::choose.
struct AddressChoice {
  std::size_t index = 0;  ///< into the address list; out of range is read as 0
  /// No address was both free (held by no other leg) and healthy: `index` is
  /// the best of a used-up list. The caller asks discovery for fresh addresses
  /// first, unless its list is already newer than the leg's last failure.
  bool exhausted = false;
};

/// Which edge address a leg uses, and when it moves (cloudflared's
/// edgediscovery GetAddr / GetDifferentAddr / GiveBack, as a sans-io policy).
class AddressPolicy {
 public:
  virtual ~AddressPolicy() = default;
  /// Picks the address for `leg` from `addresses` (discovery's order, best
  /// first, never empty); `taken` lists the indexes other legs hold (sorted,
  /// unique), to avoid while others are free. Updates `state.current`.
  virtual AddressChoice choose(AddressState& state, AddressHealth& health, std::span<const EdgeAddress> addresses,
                               unsigned leg, std::span<const std::size_t> taken, TimePoint now,
                               RandomSource& random) const = 0;
  /// The leg's attempt or connection at `address` failed with `error` at
  /// `now`: keep the address, or move on (and maybe count it against it).
  virtual AddressAction on_error(AddressState& state, AddressHealth& health, const EdgeAddress& address,
                                 const error_code& error, TimePoint now) const = 0;
  /// The leg registered at `address`: it works (and the address is healthy).
  virtual void on_connected(AddressState& state, AddressHealth& health, const EdgeAddress& address,
                            TimePoint now) const = 0;
};

/// Per-leg transport state; owned by the caller.
struct FallbackState {
  std::size_t current = 0;          ///< index into the configured [[transport]] list
  std::uint32_t dial_failures = 0;  ///< consecutive dial failures on `current`
  /// Set by the caller before on_error: the address policy reported a
  /// connectivity error for this failure (AddressState::connectivity_error):
  /// the leg failed on every address it tried, so the path, not the edge,
  /// is suspect. cloudflared falls back to its next protocol then.
  bool connectivity_error = false;
};

/// When a leg moves to the next configured transport, and when a leg on a
/// fallback transport (index > 0) tries the preferred one (index 0) again.
class FallbackPolicy {
 public:
  virtual ~FallbackPolicy() = default;
  /// The transport index for the next attempt after `error`: called for
  /// every dial failure, and for a session failure that carries
  /// `state.connectivity_error`.
  virtual std::size_t on_error(FallbackState& state, const error_code& error, std::size_t transport_count,
                               TimePoint now) const = 0;
  virtual void on_connected(FallbackState& state, TimePoint now) const = 0;
  /// ABI 1.2. A leg registered on transport `state.current` at `now`, or its
  /// last probe failed then: when it dials transport 0 again as a probe (a
  /// second connection to the same edge address; when that one registers,
  /// the fallback connection drains make-before-break; when it fails, the
  /// fallback connection stays and this is asked again). nullopt: never.
  /// Called only for `state.current` > 0. The caller dials no earlier than
  /// the answer; jitter it with `random` so many legs do not probe in step.
  /// The default never probes: a policy written for ABI 1.1 keeps a leg on
  /// its fallback transport until the leg fails.
  virtual std::optional<TimePoint> next_probe(FallbackState& /*state*/, TimePoint /*now*/,
                                              RandomSource& /*random*/) const {
    return std::nullopt;
  }
};

/// The object a policy plugin's factory returns.
class BOOST_SYMBOL_VISIBLE Policy : public PluginObject {
 public:
  /// The roles this policy plays; null for roles it does not.
  virtual const BackoffPolicy* backoff() const { return nullptr; }
  virtual const AddressPolicy* address() const { return nullptr; }
  virtual const FallbackPolicy* fallback() const { return nullptr; }
};

}  // namespace warren::sdk

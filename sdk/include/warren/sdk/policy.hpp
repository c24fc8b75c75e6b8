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

#include <cstdint>
#include <optional>
#include <span>

namespace warren::sdk {

/// Per-leg state a backoff policy reads and updates; owned by the caller.
struct BackoffState {
  std::uint32_t failures = 0;                 ///< consecutive failures so far
  std::optional<TimePoint> connected_since;   ///< set by on_connected, cleared by next_delay
  Duration last_delay{};                      ///< the previous delay (for decorrelated schemes)
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

/// Per-leg address state; owned by the caller.
struct AddressState {
  std::optional<std::size_t> current;  ///< index into the last address list
  std::uint32_t failures_here = 0;
};

/// Which edge address a leg uses, and when it moves.
class AddressPolicy {
 public:
  virtual ~AddressPolicy() = default;
  /// Picks the address for `leg` from `addresses`; `taken` lists indexes held
  /// by other legs, to avoid when others are free.
  virtual std::size_t choose(AddressState& state, std::span<const EdgeAddress> addresses, unsigned leg,
                             std::span<const std::size_t> taken, RandomSource& random) const = 0;
  virtual AddressAction on_error(AddressState& state, const error_code& error, TimePoint now) const = 0;
};

/// Per-leg transport state; owned by the caller.
struct FallbackState {
  std::size_t current = 0;              ///< index into the configured [[transport]] list
  std::uint32_t dial_failures = 0;      ///< consecutive dial failures on `current`
};

/// When a leg moves to the next configured transport.
class FallbackPolicy {
 public:
  virtual ~FallbackPolicy() = default;
  /// The transport index for the next attempt after `error`.
  virtual std::size_t on_error(FallbackState& state, const error_code& error, std::size_t transport_count,
                               TimePoint now) const = 0;
  virtual void on_connected(FallbackState& state, TimePoint now) const = 0;
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

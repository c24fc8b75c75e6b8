#include "plugins/ip-rotation/rotation.hpp"

#include <warren/sdk/suggest.hpp>

#include <algorithm>
#include <optional>

namespace warren::ip_rotation {
namespace {

std::optional<sdk::errc> errc_named(const std::string& name) {
  for (const auto& info : sdk::errc_table)
    if (name == info.name) return info.code;
  return std::nullopt;
}

std::vector<sdk::errc> codes_of(const std::vector<std::string>& names) {
  std::vector<sdk::errc> out;
  for (const auto& name : names)
    if (auto code = errc_named(name)) out.push_back(*code);
  return out;
}

void check_names(const std::vector<std::string>& names, const char* key, const sdk::CheckContext& at) {
  std::vector<std::string> known;
  for (const auto& info : sdk::errc_table) known.emplace_back(info.name);
  for (const auto& name : names) {
    if (errc_named(name)) continue;
    auto guess = sdk::closest_match(name, known);
    at.error(key, "'" + name + "' in '" + key + "' is not an error name" +
                      (guess ? "; did you mean '" + *guess + "'?" : "; see sdk/error.hpp for the names"));
  }
}

bool same_endpoint(const sdk::AddressHealth::Record& r, const sdk::EdgeAddress& a) {
  return r.address == a.address && r.port == a.port;
}

/// Counted failures in a row on its own address after which a leg with no
/// healthy free address shares a healthy one another leg holds.
constexpr std::uint32_t kFailuresBeforeSharing = 2;

bool contains(std::span<const std::size_t> sorted, std::size_t value) {
  return std::binary_search(sorted.begin(), sorted.end(), value);
}

}  // namespace

const sdk::ConfigSchema<RotationConfig>& rotation_schema() {
  using namespace std::chrono_literals;
  using C = RotationConfig;
  static const auto schema =
      sdk::ConfigSchema<C>("which edge address each HA leg uses, and when it moves to another")
          .integer("max_edge_addr_retries", &C::max_edge_addr_retries,
                   "counted failures in a row on one leg (any address) before it reports a connectivity error, "
                   "which moves the leg to its next transport (cloudflared's default: 8)",
                   {.min = 1, .max = 1000})
          .duration("give_back_after", &C::give_back_after,
                    "how long every leg avoids an address after a counted failure while others are free; "
                    "then it is given back (0s: never avoid)",
                    {.min = 0s, .max = 24h})
          .string_list("count_on", &C::count_on,
                       "error names that move a leg to another address and count against the one it left")
          .string_list("keep_on", &C::keep_on,
                       "error names after which a leg retries the same address (the edge is fine, only busy); "
                       "any error in neither list moves the leg on without a mark")
          .check([](const C& c, const sdk::CheckContext& at) {
            check_names(c.count_on, "count_on", at);
            check_names(c.keep_on, "keep_on", at);
            for (const auto& name : c.keep_on)
              if (std::find(c.count_on.begin(), c.count_on.end(), name) != c.count_on.end())
                at.error("keep_on", "'" + name + "' is in both 'count_on' and 'keep_on'; keep it in one");
          });
  return schema;
}

IpRotationPolicy::IpRotationPolicy(RotationConfig config)
    : config_(std::move(config)), count_on_(codes_of(config_.count_on)), keep_on_(codes_of(config_.keep_on)) {}

sdk::AddressAction IpRotationPolicy::classify(const sdk::error_code& error) const {
  auto listed = [&](const std::vector<sdk::errc>& codes) {
    return std::any_of(codes.begin(), codes.end(), [&](sdk::errc code) { return error == code; });
  };
  if (listed(keep_on_)) return sdk::AddressAction::keep;
  if (listed(count_on_)) return sdk::AddressAction::rotate_and_count;
  return sdk::AddressAction::rotate;
}

bool IpRotationPolicy::avoided(const sdk::AddressHealth& health, const sdk::EdgeAddress& address,
                               sdk::TimePoint now) const {
  for (const auto& r : health.records)
    if (same_endpoint(r, address)) return r.failures > 0 && now - r.last_failure < config_.give_back_after;
  return false;
}

namespace {

/// Gives back every address whose last counted failure is older than the window.
void give_back_expired(sdk::AddressHealth& health, sdk::TimePoint now, sdk::Duration window) {
  std::erase_if(health.records, [&](const sdk::AddressHealth::Record& r) { return now - r.last_failure >= window; });
}

}  // namespace

sdk::AddressChoice IpRotationPolicy::choose(sdk::AddressState& state, sdk::AddressHealth& health,
                                            std::span<const sdk::EdgeAddress> addresses, unsigned,
                                            std::span<const std::size_t> taken, sdk::TimePoint now,
                                            sdk::RandomSource&) const {
  const std::size_t n = addresses.size();
  if (n == 0) return {0, true};  // the caller never asks with no addresses
  give_back_expired(health, now, config_.give_back_after);
  if (state.current && *state.current >= n) state.current.reset();

  auto settle = [&](std::size_t index, bool exhausted) {
    if (state.current != index) state.failures_here = 0;
    state.current = index;
    state.move_on = false;
    return sdk::AddressChoice{index, exhausted};
  };

  // GetAddr: a leg keeps the address it has while it works and is alone on it.
  if (!state.move_on && state.current && !contains(taken, *state.current)) return settle(*state.current, false);

  // GetDifferentAddr: leave the address the last error was about.
  // (n: none; an index, not an optional, which GCC 12 misreads as uninitialised)
  const std::size_t leaving = state.move_on && state.current ? *state.current : n;
  std::vector<std::size_t> healthy_free;
  for (std::size_t i = 0; i < n; ++i)
    if (i != leaving && !contains(taken, i) && !avoided(health, addresses[i], now)) healthy_free.push_back(i);

  if (!healthy_free.empty()) {
    // A region no other leg uses survives the loss of a whole site.
    std::vector<std::string_view> used_regions;
    for (std::size_t i : taken)
      if (i < n && !addresses[i].region.empty()) used_regions.push_back(addresses[i].region);
    for (std::size_t i : healthy_free) {
      const auto& region = addresses[i].region;
      if (!region.empty() && std::find(used_regions.begin(), used_regions.end(), region) == used_regions.end())
        return settle(i, false);
    }
    return settle(healthy_free.front(), false);  // discovery's order: best first
  }

  // Prefer a working address: every free address failed lately, and this
  // leg failed on its own address twice in a row (once may be a restart
  // blip): an edge another leg holds with no recent failure is alive, so
  // share it rather than redial a dead one until max_edge_addr_retries.
  // Flagged exhausted: discovery may know a fresh edge by now.
  if (state.failures_here >= kFailuresBeforeSharing) {
    bool leaving_avoided = leaving == n || avoided(health, addresses[leaving], now);
    for (std::size_t i : taken)
      if (leaving_avoided && i < n && i != leaving && !avoided(health, addresses[i], now)) return settle(i, true);
  }

  // Used up: the free address given back soonest (oldest failure); the
  // address just left only when nothing else is free; a shared one only
  // when every address is held.
  auto last_failure = [&](std::size_t i) {
    for (const auto& r : health.records)
      if (same_endpoint(r, addresses[i])) return r.last_failure;
    return sdk::TimePoint::min();
  };
  std::vector<std::size_t> pool;
  for (int pass = 0; pass < 3 && pool.empty(); ++pass)
    for (std::size_t i = 0; i < n; ++i) {
      bool free = !contains(taken, i);
      if ((pass == 0 && free && i != leaving) || (pass == 1 && free) || (pass == 2 && i != leaving)) pool.push_back(i);
    }
  if (pool.empty()) pool.push_back(0);  // one address, held by another leg and just left
  auto best = std::min_element(pool.begin(), pool.end(),
                               [&](std::size_t a, std::size_t b) { return last_failure(a) < last_failure(b); });
  return settle(*best, true);
}

sdk::AddressAction IpRotationPolicy::on_error(sdk::AddressState& state, sdk::AddressHealth& health,
                                              const sdk::EdgeAddress& address, const sdk::error_code& error,
                                              sdk::TimePoint now) const {
  state.connectivity_error = false;
  const sdk::AddressAction action = classify(error);
  state.move_on = action != sdk::AddressAction::keep;
  if (action != sdk::AddressAction::rotate_and_count) return action;

  give_back_expired(health, now, config_.give_back_after);
  auto record = std::find_if(health.records.begin(), health.records.end(),
                             [&](const sdk::AddressHealth::Record& r) { return same_endpoint(r, address); });
  if (record == health.records.end()) {
    health.records.push_back({address.address, address.port, 0, now});
    record = health.records.end() - 1;
  }
  ++record->failures;
  record->last_failure = now;
  ++state.failures_here;
  if (++state.failures_on_leg >= config_.max_edge_addr_retries) {
    // cloudflared's connectivity error: this leg failed on address after
    // address; the path (UDP blocked?) is the suspect, not one edge.
    state.connectivity_error = true;
    state.failures_on_leg = 0;
  }
  return action;
}

void IpRotationPolicy::on_connected(sdk::AddressState& state, sdk::AddressHealth& health,
                                    const sdk::EdgeAddress& address, sdk::TimePoint) const {
  state.failures_here = 0;
  state.failures_on_leg = 0;
  state.move_on = false;
  state.connectivity_error = false;
  // It works: given back at once, for every leg.
  std::erase_if(health.records, [&](const sdk::AddressHealth::Record& r) { return same_endpoint(r, address); });
}

}  // namespace warren::ip_rotation

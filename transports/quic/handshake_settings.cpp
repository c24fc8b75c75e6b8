#include "handshake_settings.hpp"

#include <warren/sdk/config_reader.hpp>

#include <algorithm>
#include <array>
#include <string_view>

namespace warren::quic {
namespace {

constexpr std::array<std::string_view, 5> handshake_keys = {"retry", "retry_above_rate", "retry_above_pending",
                                                            "max_handshakes", "max_handshakes_per_source"};

}  // namespace

std::optional<HandshakeLimits> read_handshake_settings(const sdk::ConfigTable& table, sdk::Diagnostics& diagnostics) {
  HandshakeLimits d;
  sdk::Diagnostics local;
  sdk::ConfigReader reader(table, local);
  reader.allow_rest();  // the flow-control keys are read_settings()'s
  auto retry = reader.choice("retry", {"auto", "always", "never"}, "auto",
                             "when a new client must first prove its address with a Retry: when the edge looks "
                             "flooded, always, or never");
  auto rate = reader.integer("retry_above_rate", static_cast<std::int64_t>(d.retry_above_rate),
                             "new tokenless Initials per second above which \"auto\" sends Retry",
                             {.min = 0, .max = 10'000'000});
  auto pending = reader.integer("retry_above_pending", static_cast<std::int64_t>(d.retry_above_pending),
                                "unvalidated handshakes in progress at which \"auto\" sends Retry",
                                {.min = 0, .max = 1 << 20});
  auto max_handshakes =
      reader.integer("max_handshakes", static_cast<std::int64_t>(d.max_handshakes),
                     "handshakes in progress at once, all sources together", {.min = 1, .max = 1 << 20});
  auto per_source = reader.integer("max_handshakes_per_source", static_cast<std::int64_t>(d.max_handshakes_per_source),
                                   "handshakes in progress at once from one IPv4 address or IPv6 /64",
                                   {.min = 1, .max = 1 << 20});
  reader.finish();
  if (pending && max_handshakes && *pending > *max_handshakes) {
    const sdk::ConfigValue* v = table.find("retry_above_pending");
    local.error(v ? v->where : table.where, "'retry_above_pending' (" + std::to_string(*pending) +
                                                ") must be at most 'max_handshakes' (" +
                                                std::to_string(*max_handshakes) + ")");
  }
  diagnostics.append(local);
  if (!local.ok()) return std::nullopt;
  HandshakeLimits limits;
  limits.retry = *retry == "always" ? RetryMode::always : *retry == "never" ? RetryMode::never : RetryMode::automatic;
  limits.retry_above_rate = static_cast<std::uint64_t>(*rate);
  limits.retry_above_pending = static_cast<std::size_t>(*pending);
  limits.max_handshakes = static_cast<std::size_t>(*max_handshakes);
  limits.max_handshakes_per_source = static_cast<std::size_t>(*per_source);
  return limits;
}

sdk::ConfigTable without_handshake_keys(const sdk::ConfigTable& table) {
  sdk::ConfigTable rest = table;
  std::erase_if(rest.entries, [](const sdk::ConfigEntry& e) {
    return std::find(handshake_keys.begin(), handshake_keys.end(), e.key) != handshake_keys.end();
  });
  return rest;
}

}  // namespace warren::quic

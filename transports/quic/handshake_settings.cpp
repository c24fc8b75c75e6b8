#include "handshake_settings.hpp"

#include <string>

namespace warren::quic {

const sdk::ConfigSchema<HandshakeLimits>& handshake_settings_schema() {
  using H = HandshakeLimits;
  static const auto schema =
      sdk::ConfigSchema<H>("an edge's defences before authentication: address validation and handshake caps")
          .choice("retry", &H::retry,
                  {{"auto", RetryMode::automatic}, {"always", RetryMode::always}, {"never", RetryMode::never}},
                  "when a new client must first prove its address with a Retry: when the edge looks flooded, "
                  "always, or never")
          .integer("retry_above_rate", &H::retry_above_rate,
                   "new tokenless Initials per second above which \"auto\" sends Retry", {.min = 0, .max = 10'000'000})
          .integer("retry_above_pending", &H::retry_above_pending,
                   "unvalidated handshakes in progress at which \"auto\" sends Retry", {.min = 0, .max = 1 << 20})
          .integer("max_handshakes", &H::max_handshakes, "handshakes in progress at once, all sources together",
                   {.min = 1, .max = 1 << 20})
          .integer("max_handshakes_per_source", &H::max_handshakes_per_source,
                   "handshakes in progress at once from one IPv4 address or IPv6 /64", {.min = 1, .max = 1 << 20})
          .check([](const H& h, const sdk::CheckContext& at) {
            if (h.retry_above_pending > h.max_handshakes)
              at.error("retry_above_pending", "'retry_above_pending' (" + std::to_string(h.retry_above_pending) +
                                                  ") must be at most 'max_handshakes' (" +
                                                  std::to_string(h.max_handshakes) + ")");
          });
  return schema;
}

}  // namespace warren::quic

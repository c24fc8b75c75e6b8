#include "quic_settings.hpp"

#include <algorithm>
#include <string>

namespace warren::quic {
namespace {

/// "'key' (value) must be at least 'other' (minimum)" at `key`, unless it is.
void require_at_least(const sdk::CheckContext& at, const std::string& key, std::uint64_t value,
                      const std::string& other, std::uint64_t minimum) {
  if (value >= minimum) return;
  at.error(key, "'" + key + "' (" + std::to_string(value) + ") must be at least '" + other + "' (" +
                    std::to_string(minimum) + ")");
}

}  // namespace

const sdk::ConfigSchema<QuicSettings>& quic_settings_schema() {
  constexpr std::int64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;
  using S = QuicSettings;
  static const auto schema =
      sdk::ConfigSchema<S>("QUIC flow control: how much a peer may send ahead of the reader")
          .integer("stream_window", &S::stream_window,
                   "most bytes a peer may send on one stream ahead of the reader (the window grows to this while "
                   "the reader keeps up)",
                   {.min = 16 * KiB, .max = 256 * MiB})
          .integer("initial_stream_window", &S::initial_stream_window,
                   "window a stream starts with; all a stream that is never read can hold (at most stream_window)",
                   {.min = 16 * KiB, .max = 256 * MiB})
          .integer("connection_window", &S::connection_window,
                   "bytes in flight on all streams together, plus bytes on streams not yet accepted",
                   {.min = 64 * KiB, .max = 4 * GiB})
          .integer("max_streams", &S::max_streams, "streams a peer may have open at once", {.min = 1, .max = 1 << 20})
          .check([](const S& s, const sdk::CheckContext& at) {
            require_at_least(at, "connection_window", s.connection_window, "stream_window", s.stream_window);
            // Only a start window the user wrote can be too large; a default one shrinks (effective()).
            if (at.has("initial_stream_window"))
              require_at_least(at, "stream_window", s.stream_window, "initial_stream_window", s.initial_stream_window);
          });
  return schema;
}

QuicSettings effective(QuicSettings settings) {
  settings.initial_stream_window = std::min(settings.initial_stream_window, settings.stream_window);
  return settings;
}

}  // namespace warren::quic

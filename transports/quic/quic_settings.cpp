#include "quic_settings.hpp"

#include <warren/sdk/config_reader.hpp>

#include <algorithm>

namespace warren::quic {
namespace {

void require_at_least(const sdk::ConfigTable& table, sdk::Diagnostics& diagnostics, const std::string& key,
                      std::int64_t value, const std::string& other, std::int64_t minimum) {
  if (value >= minimum) return;
  const sdk::ConfigValue* v = table.find(key);
  diagnostics.error(v ? v->where : table.where, "'" + key + "' (" + std::to_string(value) + ") must be at least '" +
                                                    other + "' (" + std::to_string(minimum) + ")");
}

}  // namespace

std::optional<QuicSettings> read_settings(const sdk::ConfigTable& table, sdk::Diagnostics& diagnostics) {
  constexpr std::int64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;
  QuicSettings defaults;
  sdk::Diagnostics local;
  sdk::ConfigReader reader(table, local);
  auto stream_window = reader.integer("stream_window", static_cast<std::int64_t>(defaults.stream_window),
                                      "most bytes a peer may send on one stream ahead of the reader (the window "
                                      "grows to this while the reader keeps up)",
                                      {.min = 16 * KiB, .max = 256 * MiB});
  auto initial_stream_window =
      reader.integer("initial_stream_window", static_cast<std::int64_t>(defaults.initial_stream_window),
                     "window a stream starts with; all a stream that is never read can hold (at most stream_window)",
                     {.min = 16 * KiB, .max = 256 * MiB});
  auto connection_window =
      reader.integer("connection_window", static_cast<std::int64_t>(defaults.connection_window),
                     "bytes in flight on all streams together, plus bytes on streams not yet accepted",
                     {.min = 64 * KiB, .max = 4 * GiB});
  auto max_streams = reader.integer("max_streams", static_cast<std::int64_t>(defaults.max_streams),
                                    "streams a peer may have open at once", {.min = 1, .max = 1 << 20});
  reader.finish();
  if (stream_window && connection_window)
    require_at_least(table, local, "connection_window", *connection_window, "stream_window", *stream_window);
  if (stream_window && initial_stream_window) {
    if (reader.has("initial_stream_window")) {
      require_at_least(table, local, "stream_window", *stream_window, "initial_stream_window", *initial_stream_window);
    } else {
      // The default start never exceeds a smaller stream_window the user chose.
      initial_stream_window = std::min(*initial_stream_window, *stream_window);
    }
  }
  diagnostics.append(local);
  if (!local.ok()) return std::nullopt;
  return QuicSettings{static_cast<std::uint64_t>(*stream_window), static_cast<std::uint64_t>(*initial_stream_window),
                      static_cast<std::uint64_t>(*connection_window), static_cast<std::uint64_t>(*max_streams)};
}

}  // namespace warren::quic

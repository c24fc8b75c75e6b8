#include "quic_settings.hpp"

#include <warren/sdk/config_reader.hpp>

namespace warren::quic {

std::optional<QuicSettings> read_settings(const sdk::ConfigTable& table, sdk::Diagnostics& diagnostics) {
  constexpr std::int64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;
  QuicSettings defaults;
  sdk::Diagnostics local;
  sdk::ConfigReader reader(table, local);
  auto stream_window =
      reader.integer("stream_window", static_cast<std::int64_t>(defaults.stream_window),
                     "bytes a peer may send on one stream ahead of the reader", {.min = 16 * KiB, .max = 256 * MiB});
  auto connection_window = reader.integer("connection_window", static_cast<std::int64_t>(defaults.connection_window),
                                          "bytes a peer may send on all streams together ahead of the readers",
                                          {.min = 64 * KiB, .max = 4 * GiB});
  auto max_streams = reader.integer("max_streams", static_cast<std::int64_t>(defaults.max_streams),
                                    "streams a peer may have open at once", {.min = 1, .max = 1 << 20});
  reader.finish();
  if (stream_window && connection_window && *connection_window < *stream_window) {
    const sdk::ConfigValue* v = table.find("connection_window");
    local.error(v ? v->where : table.where, "'connection_window' (" + std::to_string(*connection_window) +
                                                ") must be at least 'stream_window' (" +
                                                std::to_string(*stream_window) + ")");
  }
  diagnostics.append(local);
  if (!local.ok()) return std::nullopt;
  return QuicSettings{static_cast<std::uint64_t>(*stream_window), static_cast<std::uint64_t>(*connection_window),
                      static_cast<std::uint64_t>(*max_streams)};
}

}  // namespace warren::quic

#pragma once
// Turns messages into frames: Cap'n Proto standard stream framing (segment
// table, then segments), ready to write to a stream as they are.

#include "core/protocol/messages.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace warren::core::protocol {

using FrameBytes = std::vector<std::uint8_t>;

/// One framed message, or nullopt when it breaks message_rules (then `why`,
/// if given, says how). What this writes, FrameDecoder reads back equal.
std::optional<FrameBytes> encode(const ControlMessage& message, std::string* why = nullptr);
std::optional<FrameBytes> encode(const StreamHeader& header, std::string* why = nullptr);
std::optional<FrameBytes> encode(const StreamReply& reply, std::string* why = nullptr);

}  // namespace warren::core::protocol

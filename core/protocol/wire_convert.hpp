#pragma once
// Internal to warren_protocol: moves values between the plain structs of
// messages.hpp and the Cap'n Proto builders/readers generated from
// control.capnp. Readers may throw kj::Exception on malformed input; the
// decoder catches it.

#include "control.capnp.h"
#include "core/protocol/messages.hpp"

#include <optional>
#include <string>

namespace warren::core::protocol {

void to_wire(wire::ControlMessage::Builder out, const ControlMessage& message);
void to_wire(wire::StreamHeader::Builder out, const StreamHeader& header);
void to_wire(wire::StreamReply::Builder out, const StreamReply& reply);

/// The plain value, or nullopt with `why` set (unknown union member, unknown
/// stream kind). Field limits are checked afterwards by find_problem.
std::optional<ControlMessage> from_wire(wire::ControlMessage::Reader in, std::string& why);
std::optional<StreamHeader> from_wire(wire::StreamHeader::Reader in, std::string& why);
std::optional<StreamReply> from_wire(wire::StreamReply::Reader in, std::string& why);

}  // namespace warren::core::protocol

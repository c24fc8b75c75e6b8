#include "core/protocol/frame_encoder.hpp"

#include "core/protocol/message_rules.hpp"
#include "core/protocol/wire_convert.hpp"

#include <capnp/message.h>
#include <capnp/serialize.h>

namespace warren::core::protocol {
namespace {

// The largest valid message (a Registered with every text at its limit) is
// about 1.7 KiB: a 4 KiB first segment holds any valid one, so every frame
// we write has a single segment and no far pointers.
constexpr unsigned kFirstSegmentWords = 512;

template <typename Schema, typename Message>
std::optional<FrameBytes> encode_as(const Message& message, std::string* why) {
  if (auto problem = find_problem(message)) {
    if (why) *why = std::move(*problem);
    return std::nullopt;
  }
  capnp::MallocMessageBuilder builder(kFirstSegmentWords);
  to_wire(builder.initRoot<Schema>(), message);
  kj::Array<capnp::word> words = capnp::messageToFlatArray(builder);
  auto bytes = words.asBytes();
  return FrameBytes(bytes.begin(), bytes.end());
}

}  // namespace

std::optional<FrameBytes> encode(const ControlMessage& message, std::string* why) {
  return encode_as<wire::ControlMessage>(message, why);
}

std::optional<FrameBytes> encode(const StreamHeader& header, std::string* why) {
  return encode_as<wire::StreamHeader>(header, why);
}

std::optional<FrameBytes> encode(const StreamReply& reply, std::string* why) {
  return encode_as<wire::StreamReply>(reply, why);
}

}  // namespace warren::core::protocol

#include "core/protocol/frame_decoder.hpp"

#include "core/protocol/message_rules.hpp"
#include "core/protocol/wire_convert.hpp"

#include <capnp/any.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <exception>

namespace warren::core::protocol {
namespace {

template <typename Message>
struct SchemaOf;
template <>
struct SchemaOf<ControlMessage> {
  using type = wire::ControlMessage;
};
template <>
struct SchemaOf<StreamHeader> {
  using type = wire::StreamHeader;
};
template <>
struct SchemaOf<StreamReply> {
  using type = wire::StreamReply;
};

// Converts one complete frame. Cap'n Proto reports malformed data (bad
// pointers, limits exceeded, missing NUL) by throwing kj::Exception; it is
// turned into a reason here and goes no further.
template <typename Message>
std::optional<Message> read_frame(kj::ArrayPtr<const capnp::word> frame, const FrameLimits& limits,
                                  std::string& why) {
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = limits.traversal_limit_words;
    options.nestingLimit = limits.nesting_limit;
    capnp::FlatArrayMessageReader reader(frame, options);
    if (reader.getEnd() != frame.end()) {
      why = "frame length disagrees with its segment table";
      return std::nullopt;
    }
    // A null root would read as an all-default message; refuse it instead.
    if (reader.getRoot<capnp::AnyPointer>().isNull()) {
      why = "frame holds no message";
      return std::nullopt;
    }
    auto message = from_wire(reader.getRoot<typename SchemaOf<Message>::type>(), why);
    if (!message) return std::nullopt;
    if (auto problem = find_problem(*message)) {
      why = std::move(*problem);
      return std::nullopt;
    }
    return message;
  } catch (const kj::Exception& e) {
    why = "malformed frame: " + std::string(e.getDescription().cStr());
  } catch (const std::exception& e) {
    why = std::string("malformed frame: ") + e.what();
  }
  return std::nullopt;
}

}  // namespace

template <typename Message>
FrameLimits FrameDecoder<Message>::default_limits() {
  if constexpr (std::is_same_v<Message, StreamHeader>) return FrameLimits::stream_header();
  else if constexpr (std::is_same_v<Message, StreamReply>)
    return FrameLimits::stream_reply();
  else return FrameLimits::control();
}

template <typename Message>
ParseResult<Message> FrameDecoder<Message>::parse(const std::uint8_t* begin, const std::uint8_t* end) noexcept {
  ParseResult<Message> result;
  try {
    auto step = frames_.parse(begin, end);
    result.status = step.status;
    result.consumed = step.consumed;
    if (step.status == ParseStatus::good) {
      std::string why;
      result.message = read_frame<Message>(frames_.frame(), frames_.limits(), why);
      if (!result.message) {
        frames_.fail(std::move(why));
        result.status = ParseStatus::bad;
      }
    }
  } catch (const std::exception& e) {
    // Only allocation can throw above; report it like any other bad frame.
    frames_.fail(std::string("decoder failure: ") + e.what());
    result.status = ParseStatus::bad;
  }
  if (result.status == ParseStatus::bad) result.reason = frames_.error();
  return result;
}

template class FrameDecoder<ControlMessage>;
template class FrameDecoder<StreamHeader>;
template class FrameDecoder<StreamReply>;

}  // namespace warren::core::protocol

// Frames that are well framed Cap'n Proto but carry content this build must
// not accept (or must read leniently). Built with the generated schema and
// then bent with the raw AnyStruct view.

#include "control.capnp.h"
#include "core/protocol/frame_decoder.hpp"
#include "core/protocol/frame_encoder.hpp"

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <catch2/catch.hpp>

using namespace warren::core::protocol;

namespace {

FrameBytes frame_of(capnp::MessageBuilder& builder) {
  auto words = capnp::messageToFlatArray(builder);
  auto bytes = words.asBytes();
  return FrameBytes(bytes.begin(), bytes.end());
}

void put_u64(FrameBytes& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

}  // namespace

TEST_CASE("an unknown control message kind is refused", "[protocol]") {
  for (std::uint16_t tag : {std::uint16_t{7}, std::uint16_t{0xffff}}) {
    capnp::MallocMessageBuilder builder;
    auto root = builder.initRoot<wire::ControlMessage>();
    root.initHeartbeat().setSequence(1);
    capnp::AnyStruct::Builder raw{wire::ControlMessage::Builder(root)};
    auto data = raw.getDataSection();
    // The union's discriminant is the struct's first 16 bits.
    REQUIRE(data[0] == 3);
    data[0] = static_cast<capnp::byte>(tag);
    data[1] = static_cast<capnp::byte>(tag >> 8);
    REQUIRE(static_cast<std::uint16_t>(root.which()) == tag);

    ControlDecoder decoder;
    auto result = decoder.parse(frame_of(builder));
    INFO("tag " << tag);
    CHECK(result.status == ParseStatus::bad);
    CHECK_THAT(result.reason, Catch::Contains("unknown control message kind"));
  }
}

TEST_CASE("an unknown stream kind is refused", "[protocol]") {
  capnp::MallocMessageBuilder builder;
  auto root = builder.initRoot<wire::StreamHeader>();
  root.setClientAddress("1.2.3.4:5");
  root.setKind(static_cast<wire::StreamKind>(7));
  StreamHeaderDecoder decoder;
  auto result = decoder.parse(frame_of(builder));
  CHECK(result.status == ParseStatus::bad);
  CHECK_THAT(result.reason, Catch::Contains("unknown stream kind"));
}

TEST_CASE("a rejection code from a newer edge reads as a protocol error refusal", "[protocol]") {
  capnp::MallocMessageBuilder builder;
  auto rejected = builder.initRoot<wire::ControlMessage>().initRejected();
  rejected.setCode(static_cast<wire::RejectCode>(200));
  rejected.setFatal(true);
  rejected.setRetryAfterMs(250);
  ControlDecoder decoder;
  auto result = decoder.parse(frame_of(builder));
  REQUIRE(result.status == ParseStatus::good);
  auto message = std::get<Rejected>(*result.message);
  CHECK(message.code == warren::sdk::errc::protocol_error);
  CHECK(message.fatal);
  CHECK(message.retry_after == std::chrono::milliseconds(250));
}

TEST_CASE("a registration laid out by a connector from before replicas reads with no connector id", "[protocol]") {
  // The old RegisterConnection: one data word and three pointers (tunnelId,
  // token, clientVersion); connectorId (ptr 3) did not exist yet.
  capnp::MallocMessageBuilder builder;
  auto root = builder.getRoot<capnp::AnyPointer>().initAsAnyStruct(1, 1);
  root.getDataSection()[0] = 0;  // union tag 0: registerConnection
  auto reg = root.getPointerSection()[0].initAsAnyStruct(1, 3);
  auto data = reg.getDataSection();
  data[0] = 2;     // protocolVersion = 2
  data[4] = 1;     // connIndex = 1
  data[5] = 0x01;  // replaceExisting
  reg.getPointerSection()[0].setAs<capnp::Text>("web");
  reg.getPointerSection()[1].setAs<capnp::Text>("s3cret");
  reg.getPointerSection()[2].setAs<capnp::Text>("warren 0.1.0");
  ControlDecoder decoder;
  auto result = decoder.parse(frame_of(builder));
  REQUIRE(result.status == ParseStatus::good);
  auto message = std::get<RegisterConnection>(*result.message);
  CHECK(message == RegisterConnection{2, "web", "s3cret", 1, true, "warren 0.1.0", 0, false, ""});
}

TEST_CASE("text over its limit on the wire is refused", "[protocol]") {
  capnp::MallocMessageBuilder builder;
  auto reg = builder.initRoot<wire::ControlMessage>().initRegisterConnection();
  reg.setTunnelId(std::string(200, 'a'));
  ControlDecoder decoder;
  auto result = decoder.parse(frame_of(builder));
  CHECK(result.status == ParseStatus::bad);
  CHECK_THAT(result.reason, Catch::Contains("tunnel id is 200 bytes"));
}

TEST_CASE("text without its NUL terminator is refused", "[protocol]") {
  // Root -> StreamHeader (1 data word, 2 pointers) -> clientAddress: a
  // 4-byte byte list "abcd" whose last byte should have been NUL.
  FrameBytes bytes;
  put_u64(bytes, std::uint64_t{5} << 32);                                    // one segment of 5 words
  put_u64(bytes, (std::uint64_t{2} << 48) | (std::uint64_t{1} << 32));       // struct ptr, offset 0
  put_u64(bytes, 0);                                                         // kind = tcp
  put_u64(bytes, (std::uint64_t{4} << 35) | (std::uint64_t{2} << 32) | (1u << 2) | 1u);  // list ptr, offset 1
  put_u64(bytes, 0);                                                         // listener: null
  for (char c : std::string("abcd\1\1\1\1")) bytes.push_back(static_cast<std::uint8_t>(c));
  StreamHeaderDecoder decoder;
  auto result = decoder.parse(bytes);
  CHECK(result.status == ParseStatus::bad);
  CHECK_THAT(result.reason, Catch::Contains("malformed frame"));
}

TEST_CASE("pointers aliasing one large blob hit the traversal limit", "[protocol]") {
  // Both text pointers of a StreamHeader point at the same 2999-byte text:
  // the frame (3048 bytes) fits the 4 KiB limit, but reading it twice is
  // 750 words, beyond the 512-word traversal limit. Without the limit a
  // small frame could make the reader walk far more than it holds.
  constexpr std::uint64_t text_words = 375;  // 3000 bytes with the NUL
  FrameBytes bytes;
  put_u64(bytes, (4 + text_words) << 32);
  put_u64(bytes, (std::uint64_t{2} << 48) | (std::uint64_t{1} << 32));
  put_u64(bytes, 0);
  put_u64(bytes, (std::uint64_t{3000} << 35) | (std::uint64_t{2} << 32) | (1u << 2) | 1u);  // offset 1
  put_u64(bytes, (std::uint64_t{3000} << 35) | (std::uint64_t{2} << 32) | (0u << 2) | 1u);  // offset 0
  bytes.insert(bytes.end(), 2999, 'x');
  bytes.push_back(0);
  REQUIRE(bytes.size() == 8 * (1 + 4 + text_words));
  StreamHeaderDecoder decoder;
  auto result = decoder.parse(bytes);
  CHECK(result.status == ParseStatus::bad);
  CHECK_THAT(result.reason, Catch::Contains("traversal limit"));
}

TEST_CASE("a valid multi-segment frame from another encoder is read", "[protocol]") {
  // Tiny fixed-size segments force far pointers across segments.
  capnp::MallocMessageBuilder builder(2, capnp::AllocationStrategy::FIXED_SIZE);
  auto reg = builder.initRoot<wire::ControlMessage>().initRegistered();
  reg.setEdgeId("edge-a");
  reg.setPublicAddress("203.0.113.7:20080");
  auto bytes = frame_of(builder);
  REQUIRE(bytes[0] > 0);      // more than one segment
  REQUIRE(bytes[0] < 8);      // within the decoder's segment limit
  ControlDecoder decoder;
  auto result = decoder.parse(bytes);
  INFO(result.reason);
  REQUIRE(result.status == ParseStatus::good);
  auto message = std::get<Registered>(*result.message);
  CHECK(message.edge_id == "edge-a");
  CHECK(message.public_address == "203.0.113.7:20080");
}

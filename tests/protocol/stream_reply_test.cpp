// The connector's StreamReply: its codec, its strict limits, and how it
// reads when a newer connector sends what this build does not know.

#include "control.capnp.h"
#include "core/protocol/frame_decoder.hpp"
#include "core/protocol/frame_encoder.hpp"
#include "core/protocol/fuzz_entry.hpp"
#include "core/protocol/message_rules.hpp"
#include "sample_messages.hpp"

#include <warren/sdk/random.hpp>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <catch2/catch.hpp>

using namespace warren::core::protocol;
using warren::sdk::errc;

namespace {

FrameBytes frame_of(capnp::MessageBuilder& builder) {
  auto words = capnp::messageToFlatArray(builder);
  auto bytes = words.asBytes();
  return FrameBytes(bytes.begin(), bytes.end());
}

}  // namespace

TEST_CASE("every stream reply round-trips unchanged in 24 bytes", "[protocol]") {
  for (const auto& reply : test::every_stream_reply()) {
    auto bytes = encode(reply);
    REQUIRE(bytes);
    CHECK(bytes->size() == 24);  // segment table, root pointer, one data word
    StreamReplyDecoder decoder;
    auto result = decoder.parse(*bytes);
    REQUIRE(result.status == ParseStatus::good);
    CHECK(result.consumed == bytes->size());
    CHECK(*result.message == reply);
  }
}

TEST_CASE("only backend, shutdown and kind refusals can be sent in a stream reply", "[protocol]") {
  std::string why;
  CHECK_FALSE(encode(StreamReply{errc::auth_failed}, &why));
  CHECK(why == "error code 2 cannot be sent as a stream refusal");
  CHECK_FALSE(encode(StreamReply{errc::peer_closed}));
  CHECK(is_stream_refusal_code(errc::backend_refused));
  CHECK_FALSE(is_stream_refusal_code(errc::tunnel_limit));
}

TEST_CASE("a stream reply leaves the backend's bytes after it untouched", "[protocol]") {
  auto bytes = *encode(StreamReply{});
  std::size_t frame = bytes.size();
  for (std::uint8_t b : {'H', 'T', 'T', 'P'}) bytes.push_back(b);
  // Delivered in two uneven pieces, as a QUIC stream may.
  StreamReplyDecoder decoder;
  auto first = decoder.parse(bytes.data(), bytes.data() + 5);
  REQUIRE(first.status == ParseStatus::need_more);
  CHECK(first.consumed == 5);
  auto second = decoder.parse(bytes.data() + 5, bytes.data() + bytes.size());
  REQUIRE(second.status == ParseStatus::good);
  CHECK(5 + second.consumed == frame);
  CHECK(std::string(bytes.begin() + static_cast<std::ptrdiff_t>(frame), bytes.end()) == "HTTP");
}

TEST_CASE("a stream reply frame over 128 bytes or with two segments is refused from its table", "[protocol]") {
  // 1 segment of 16 words = 8 + 128 bytes.
  FrameBytes big = {0, 0, 0, 0, 16, 0, 0, 0};
  StreamReplyDecoder decoder;
  auto result = decoder.parse(big);
  REQUIRE(result.status == ParseStatus::bad);
  CHECK(result.reason == "frame of 136 bytes exceeds the limit of 128");
  FrameBytes two = {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
  StreamReplyDecoder again;
  auto second = again.parse(two);
  REQUIRE(second.status == ParseStatus::bad);
  CHECK(second.reason == "frame has 2 segments, limit 1");
}

TEST_CASE("a refusal code from a newer connector reads as backend refused", "[protocol]") {
  capnp::MallocMessageBuilder builder;
  builder.initRoot<wire::StreamReply>().setRefused(static_cast<wire::StreamRefusal>(40));
  StreamReplyDecoder decoder;
  auto result = decoder.parse(frame_of(builder));
  REQUIRE(result.status == ParseStatus::good);
  CHECK(*result.message == StreamReply{errc::backend_refused});
}

TEST_CASE("a stream reply with an unknown union member is refused", "[protocol]") {
  capnp::MallocMessageBuilder builder;
  auto root = builder.getRoot<capnp::AnyPointer>().initAsAnyStruct(1, 0);
  root.getDataSection()[0] = 7;  // the union tag: the first 16 bits (the refusal code follows)
  StreamReplyDecoder decoder;
  auto result = decoder.parse(frame_of(builder));
  REQUIRE(result.status == ParseStatus::bad);
  CHECK(result.reason == "unknown stream reply kind 7");
}

TEST_CASE("registrations and answers from before stream replies read with the flag off", "[protocol]") {
  capnp::MallocMessageBuilder builder;
  auto reg = builder.initRoot<wire::ControlMessage>().initRegisterConnection();
  reg.setProtocolVersion(2);
  reg.setTunnelId("web");
  ControlDecoder decoder;
  auto result = decoder.parse(frame_of(builder));
  REQUIRE(result.status == ParseStatus::good);
  CHECK_FALSE(std::get<RegisterConnection>(*result.message).stream_replies);
  RegisterConnection offer;
  offer.tunnel_id = "web";
  offer.stream_replies = true;
  ControlDecoder again;
  auto back = again.parse(*encode(ControlMessage{offer}));
  REQUIRE(back.status == ParseStatus::good);
  CHECK(std::get<RegisterConnection>(*back.message).stream_replies);
}

TEST_CASE("20k mutated stream replies neither crash nor throw", "[protocol][fuzz]") {
  std::vector<FrameBytes> corpus;
  for (const auto& r : test::every_stream_reply()) corpus.push_back(*encode(r));
  warren::sdk::SeededRandom random(0x2e91'7);
  int good = 0, bad = 0, need_more = 0;
  for (int i = 0; i < 20'000; ++i) {
    auto input = corpus[random.next_u64() % corpus.size()];
    // One to three bit flips or a truncation.
    for (auto n = 1 + random.next_u64() % 3; n > 0; --n) {
      if (random.next_u64() % 4 == 0)
        input.resize(random.next_u64() % (input.size() + 1));
      else if (!input.empty())
        input[random.next_u64() % input.size()] ^= static_cast<std::uint8_t>(1u << (random.next_u64() % 8));
    }
    REQUIRE_NOTHROW(fuzz_decoders(input.data(), input.size()));
    StreamReplyDecoder decoder;
    switch (decoder.parse(input).status) {
      case ParseStatus::good: ++good; break;
      case ParseStatus::bad: ++bad; break;
      case ParseStatus::need_more: ++need_more; break;
    }
  }
  INFO("good " << good << ", bad " << bad << ", need more " << need_more);
  CHECK(good > 1'000);
  CHECK(bad > 1'000);
  CHECK(need_more > 1'000);
}

TEST_CASE("a Registered carries the tunnel's kind, and one from an edge before UDP tunnels reads tcp", "[protocol]") {
  capnp::MallocMessageBuilder builder;
  auto reg = builder.initRoot<wire::ControlMessage>().initRegistered();
  reg.setEdgeId("edge-a");
  reg.setPublicAddress("127.0.0.1:20053");
  ControlDecoder decoder;
  auto old = decoder.parse(frame_of(builder));
  REQUIRE(old.status == ParseStatus::good);
  CHECK(std::get<Registered>(*old.message).kind == StreamKind::tcp);
  CHECK(std::get<Registered>(*old.message).flow_idle_timeout.count() == 0);

  Registered udp{"edge-a", "", "127.0.0.1:20053", std::chrono::milliseconds(10), "dns", ""};
  udp.kind = StreamKind::udp;
  udp.flow_idle_timeout = std::chrono::seconds(30);
  ControlDecoder again;
  auto back = again.parse(*encode(ControlMessage{udp}));
  REQUIRE(back.status == ParseStatus::good);
  CHECK(std::get<Registered>(*back.message) == udp);

  reg.setKind(static_cast<wire::StreamKind>(9));  // from a newer edge with a kind this connector does not know
  ControlDecoder strict;
  auto unknown = strict.parse(frame_of(builder));
  REQUIRE(unknown.status == ParseStatus::bad);
  CHECK_THAT(unknown.reason, Catch::Contains("unknown tunnel kind 9"));
}

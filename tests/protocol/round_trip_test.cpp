// Every message survives encode -> decode unchanged, and the encoder
// refuses what the decoder would refuse.

#include "core/protocol/frame_decoder.hpp"
#include "core/protocol/frame_encoder.hpp"
#include "core/protocol/message_rules.hpp"
#include "sample_messages.hpp"

#include <catch2/catch.hpp>

using namespace warren::core::protocol;
using warren::sdk::errc;
using namespace std::chrono_literals;

namespace {

template <typename Message>
Message decode_whole(const FrameBytes& bytes) {
  FrameDecoder<Message> decoder;
  auto result = decoder.parse(bytes);
  INFO(result.reason);
  REQUIRE(result.status == ParseStatus::good);
  REQUIRE(result.consumed == bytes.size());
  REQUIRE(result.message.has_value());
  CHECK(decoder.between_frames());
  return *result.message;
}

}  // namespace

TEST_CASE("every control message round-trips unchanged", "[protocol]") {
  for (const auto& message : test::every_control_message()) {
    std::string why;
    auto bytes = encode(message, &why);
    INFO("message kind " << message.index() << ": " << why);
    REQUIRE(bytes.has_value());
    // Standard framing: one segment, so the table is one word and the size fits.
    REQUIRE(bytes->size() % 8 == 0);
    CHECK((*bytes)[0] == 0);
    CHECK(decode_whole<ControlMessage>(*bytes) == message);
  }
}

TEST_CASE("messages with every text at its limit still travel in one segment", "[protocol]") {
  std::string id(TextLimits::id, 'i'), secret(TextLimits::secret, 's'), address(TextLimits::address, 'a');
  std::vector<ControlMessage> largest{
      Registered{id, id, address, 10min, id, secret},
      RegisterConnection{kProtocolVersion, id, secret, 3, true, std::string(TextLimits::version, 'v'), 1, false,
                         std::string(TextLimits::connector_id, 'c')},
      Rejected{errc::auth_failed, std::string(TextLimits::message, 'm'), true, 1ms},
  };
  for (const auto& message : largest) {
    auto bytes = encode(message);
    REQUIRE(bytes.has_value());
    INFO("kind " << message.index() << ", " << bytes->size() << " bytes");
    CHECK((*bytes)[0] == 0);  // segment count - 1
    CHECK(bytes->size() < 4096);
    CHECK(decode_whole<ControlMessage>(*bytes) == message);
  }
}

TEST_CASE("stream headers round-trip for both kinds", "[protocol]") {
  auto header = test::sample_stream_header();
  CHECK(decode_whole<StreamHeader>(*encode(header)) == header);
  header.kind = StreamKind::udp;
  header.client_address = "[2001:db8::9]:6000";
  CHECK(decode_whole<StreamHeader>(*encode(header)) == header);
}

TEST_CASE("every rejection code has a wire form and no other code does", "[protocol]") {
  int round_tripped = 0;
  for (int value = 1; value <= static_cast<int>(errc::plugin_mismatch); ++value) {
    auto code = static_cast<errc>(value);
    ControlMessage message = Rejected{code, "no", false, 0ms};
    auto bytes = encode(message);
    INFO("errc " << value);
    CHECK(bytes.has_value() == is_rejection_code(code));
    if (bytes) {
      CHECK(std::get<Rejected>(decode_whole<ControlMessage>(*bytes)).code == code);
      ++round_tripped;
    }
  }
  CHECK(round_tripped == 11);
}

TEST_CASE("the encoder refuses messages that break the rules", "[protocol]") {
  std::string why;
  SECTION("conn index at the HA limit") {
    CHECK_FALSE(encode(RegisterConnection{kProtocolVersion, "web", "t", kMaxLegs, false, "", 0, false}, &why));
    CHECK_THAT(why, Catch::Contains("connection index"));
  }
  SECTION("named tunnel without an id") {
    CHECK_FALSE(encode(RegisterConnection{kProtocolVersion, "", "t", 0, false, "", 0, false}, &why));
    CHECK_THAT(why, Catch::Contains("tunnel id is empty"));
  }
  SECTION("quick tunnel with only half of its assigned credentials") {
    CHECK_FALSE(encode(RegisterConnection{kProtocolVersion, "q-1", "", 1, false, "", 0, true}, &why));
    CHECK_THAT(why, Catch::Contains("both its assigned id and token"));
    CHECK_FALSE(encode(RegisterConnection{kProtocolVersion, "", "t", 1, false, "", 0, true}, &why));
  }
  SECTION("a later leg of a quick tunnel joins with the assigned id and token") {
    // Every leg after the first (and every reconnect) sends what the edge assigned.
    CHECK(encode(RegisterConnection{kProtocolVersion, "q-1", "t", 1, true, "", 0, true}));
  }
  SECTION("token one byte over its limit") {
    std::string token(TextLimits::secret + 1, 'x');
    CHECK_FALSE(encode(RegisterConnection{kProtocolVersion, "web", token, 0, false, "", 0, false}, &why));
    CHECK_THAT(why, Catch::Contains("token"));
    token.pop_back();
    CHECK(encode(RegisterConnection{kProtocolVersion, "web", token, 0, false, "", 0, false}));
  }
  SECTION("connector id over its limit or with characters a log line must not hold") {
    RegisterConnection r{
        kProtocolVersion, "web", "t", 0, false, "", 0, false, std::string(TextLimits::connector_id, 'c')};
    CHECK(encode(r));
    r.connector_id += 'c';
    CHECK_FALSE(encode(r, &why));
    CHECK_THAT(why, Catch::Contains("connector id is 65 bytes"));
    for (std::string bad : {"a b", "a\nb", "caf\xc3\xa9", "x/y"}) {
      r.connector_id = bad;
      CHECK_FALSE(encode(r, &why));
      CHECK_THAT(why, Catch::Contains("connector id may hold only"));
    }
    r.connector_id = "";  // a connector from before replicas
    CHECK(encode(r));
  }
  SECTION("embedded NUL") {
    CHECK_FALSE(encode(StreamHeader{std::string("1.2.3.4\0:5", 10), "l", StreamKind::tcp}, &why));
    CHECK_THAT(why, Catch::Contains("NUL"));
  }
  SECTION("heartbeat interval out of range") {
    CHECK_FALSE(encode(Registered{"e", "", "a:1", 5ms, "", ""}, &why));
    CHECK_FALSE(encode(Registered{"e", "", "a:1", 11min, "", ""}, &why));
    CHECK(encode(Registered{"e", "", "a:1", 10ms, "", ""}));
  }
  SECTION("durations that do not fit 32-bit milliseconds") {
    CHECK_FALSE(encode(Unregister{-1ms}, &why));
    CHECK_THAT(why, Catch::Contains("negative"));
    CHECK_FALSE(encode(Unregister{std::chrono::milliseconds(std::int64_t{1} << 32)}, &why));
    CHECK(encode(Unregister{std::chrono::milliseconds((std::int64_t{1} << 32) - 1)}));
  }
}

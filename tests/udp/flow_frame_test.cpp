// The flow frame codec: exact bytes, round trips, every refusal.
#include "core/udp/flow_frame.hpp"
#include "core/udp/flow_reasons.hpp"

#include <catch2/catch.hpp>

#include <initializer_list>

using namespace warren::core::udp;
namespace ip = boost::asio::ip;

namespace {

std::vector<std::byte> raw(std::initializer_list<unsigned> values) {
  std::vector<std::byte> out;
  for (const unsigned v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

std::vector<std::byte> reencode(const std::vector<std::byte>& bytes) {
  const auto decoded = decode_flow_frame(bytes);
  REQUIRE(decoded.error == FlowFrameError::none);
  std::vector<std::byte> out;
  REQUIRE(encode_flow_frame(*decoded.frame, out));
  return out;
}

FlowFrameError error_of(const std::vector<std::byte>& bytes) { return decode_flow_frame(bytes).error; }

}  // namespace

TEST_CASE("flow frames: a request carries the flow id, the client's address and port, then the payload",
          "[udp][frame]") {
  std::vector<std::byte> out;
  REQUIRE(encode_request(5, ip::udp::endpoint(ip::make_address("192.0.2.33"), 0x1234), raw({0xaa, 0xbb}), out));
  CHECK(out == raw({0x01, 0x05, 4, 192, 0, 2, 33, 0x12, 0x34, 0xaa, 0xbb}));
  CHECK(request_overhead(5, ip::udp::endpoint(ip::make_address("192.0.2.33"), 1)) == 9);

  const auto decoded = decode_flow_frame(out);
  REQUIRE(decoded.error == FlowFrameError::none);
  const auto& request = std::get<RequestFrame>(*decoded.frame);
  CHECK(request.flow == 5);
  CHECK(request.client == ip::udp::endpoint(ip::make_address("192.0.2.33"), 0x1234));
  CHECK(std::vector<std::byte>(request.payload.begin(), request.payload.end()) == raw({0xaa, 0xbb}));
  CHECK(reencode(out) == out);

  out.clear();
  const ip::udp::endpoint v6(ip::make_address("2001:db8::1"), 53);
  REQUIRE(encode_request(300, v6, {}, out));  // an empty datagram is a datagram
  CHECK(out.size() == request_overhead(300, v6));
  CHECK(out.size() == 1 + 2 + 1 + 16 + 2);
  CHECK(std::get<RequestFrame>(*decode_flow_frame(out).frame).client == v6);
  CHECK(reencode(out) == out);
}

TEST_CASE("flow frames: responses and closes", "[udp][frame]") {
  std::vector<std::byte> out;
  REQUIRE(encode_response(63, raw({1, 2, 3}), out));
  CHECK(out == raw({0x02, 0x3f, 1, 2, 3}));
  CHECK(response_overhead(63) == 2);
  CHECK(std::get<ResponseFrame>(*decode_flow_frame(out).frame).payload.size() == 3);

  out.clear();
  REQUIRE(encode_close(64, to_wire(CloseReason::responses), out));
  CHECK(out == raw({0x03, 0x40, 0x40, 4}));  // 64 needs the 2-byte varint
  const auto close = std::get<CloseFrame>(*decode_flow_frame(out).frame);
  CHECK(close.flow == 64);
  CHECK(close_reason_from_wire(close.reason) == CloseReason::responses);
  // A reason a newer peer may send still decodes: the flow closes all the same.
  CHECK(std::get<CloseFrame>(*decode_flow_frame(raw({0x03, 0x01, 0xfe})).frame).reason == 0xfe);
}

TEST_CASE("flow frames: flow ids use the shortest QUIC varint at every size boundary", "[udp][frame]") {
  const std::pair<FlowId, std::size_t> cases[] = {{1, 1},          {63, 1},         {64, 2},
                                                  {16383, 2},      {16384, 4},      {(1ULL << 30) - 1, 4},
                                                  {1ULL << 30, 8}, {max_wire_flow_id, 8}};
  for (const auto& [flow, size] : cases) {
    std::vector<std::byte> out;
    REQUIRE(encode_response(flow, {}, out));
    CHECK(out.size() == 1 + size);
    CHECK(response_overhead(flow) == 1 + size);
    CHECK(std::get<ResponseFrame>(*decode_flow_frame(out).frame).flow == flow);
  }
  std::vector<std::byte> out;
  CHECK_FALSE(encode_response(max_wire_flow_id + 1, {}, out));
  CHECK_FALSE(encode_response(0, {}, out));
  CHECK(out.empty());
  CHECK(response_overhead(0) == 0);
}

TEST_CASE("flow frames: decode refuses each malformed frame with its own error", "[udp][frame]") {
  CHECK(error_of({}) == FlowFrameError::empty);
  CHECK(error_of(raw({0x00, 0x01})) == FlowFrameError::unknown_type);
  CHECK(error_of(raw({0x04, 0x01})) == FlowFrameError::unknown_type);
  CHECK(error_of(raw({0x02})) == FlowFrameError::truncated);
  CHECK(error_of(raw({0x02, 0x40})) == FlowFrameError::truncated);  // a 2-byte varint cut short
  CHECK(error_of(raw({0x02, 0x40, 0x05})) == FlowFrameError::non_minimal_varint);
  CHECK(error_of(raw({0x02, 0x00})) == FlowFrameError::zero_flow_id);
  CHECK(error_of(raw({0x01, 0x01})) == FlowFrameError::truncated);
  CHECK(error_of(raw({0x01, 0x01, 5, 1, 2, 3, 4, 0, 1})) == FlowFrameError::bad_family);
  CHECK(error_of(raw({0x01, 0x01, 4, 1, 2, 3, 4, 0})) == FlowFrameError::truncated);
  CHECK(error_of(raw({0x01, 0x01, 6, 1, 2, 3, 4, 0, 1})) == FlowFrameError::truncated);
  CHECK(error_of(raw({0x01, 0x01, 4, 1, 2, 3, 4, 0, 0})) == FlowFrameError::zero_port);
  CHECK(error_of(raw({0x03, 0x01})) == FlowFrameError::truncated);
  CHECK(error_of(raw({0x03, 0x01, 0x00})) == FlowFrameError::zero_reason);
  CHECK(error_of(raw({0x03, 0x01, 0x01, 0x00})) == FlowFrameError::trailing_bytes);
  CHECK(name(FlowFrameError::non_minimal_varint) == "non_minimal_varint");
}

TEST_CASE("flow frames: payloads up to the largest UDP payload, and not one byte more", "[udp][frame]") {
  const std::vector<std::byte> largest(max_flow_payload, std::byte{0x5a});
  const ip::udp::endpoint client(ip::make_address("192.0.2.1"), 9);
  std::vector<std::byte> out;
  REQUIRE(encode_request(1, client, largest, out));
  CHECK(std::get<RequestFrame>(*decode_flow_frame(out).frame).payload.size() == max_flow_payload);
  out.push_back(std::byte{0});
  CHECK(error_of(out) == FlowFrameError::payload_too_large);

  const std::vector<std::byte> too_large(max_flow_payload + 1);
  std::vector<std::byte> refused;
  CHECK_FALSE(encode_request(1, client, too_large, refused));
  CHECK_FALSE(encode_response(1, too_large, refused));
  CHECK_FALSE(encode_request(1, ip::udp::endpoint(ip::make_address("192.0.2.1"), 0), {}, refused));
  CHECK_FALSE(encode_close(1, 0, refused));
  CHECK(refused.empty());
  out.clear();
  REQUIRE(encode_response(1, largest, out));
  out.push_back(std::byte{0});
  CHECK(error_of(out) == FlowFrameError::payload_too_large);
}

TEST_CASE("flow frames: encoders append after what the buffer holds", "[udp][frame]") {
  std::vector<std::byte> out = raw({0x00, 0x07});  // e.g. a stream record's length prefix
  REQUIRE(encode_close(2, 1, out));
  CHECK(out == raw({0x00, 0x07, 0x03, 0x02, 0x01}));
}

#include "core/udp/flow_frame.hpp"

#include <array>

namespace warren::core::udp {
namespace {

namespace ip = boost::asio::ip;

/// Bytes of the shortest QUIC varint for `value` (RFC 9000 §16); 0 when it
/// does not fit in 62 bits.
std::size_t varint_size(std::uint64_t value) noexcept {
  if (value < (1ULL << 6)) return 1;
  if (value < (1ULL << 14)) return 2;
  if (value < (1ULL << 30)) return 4;
  if (value <= max_wire_flow_id) return 8;
  return 0;
}

bool valid_flow(FlowId flow) noexcept { return flow != 0 && flow <= max_wire_flow_id; }

void put_varint(std::uint64_t value, std::vector<std::byte>& out) {
  const std::size_t size = varint_size(value);
  const std::uint64_t prefix = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
  for (std::size_t i = 0; i < size; ++i) {
    auto byte = static_cast<std::uint8_t>(value >> (8 * (size - 1 - i)));
    if (i == 0) byte = static_cast<std::uint8_t>((byte & 0x3f) | (prefix << 6));
    out.push_back(static_cast<std::byte>(byte));
  }
}

/// Reads a byte cursor; every read checks the bounds.
class Reader {
 public:
  explicit Reader(std::span<const std::byte> bytes) : bytes_(bytes) {}
  std::size_t left() const noexcept { return bytes_.size() - at_; }
  std::uint8_t byte() noexcept { return std::to_integer<std::uint8_t>(bytes_[at_++]); }
  std::span<const std::byte> take(std::size_t count) noexcept {
    auto part = bytes_.subspan(at_, count);
    at_ += count;
    return part;
  }
  std::span<const std::byte> rest() noexcept { return take(left()); }

  /// The flow id, or the error that stops the decode.
  FlowFrameError flow_id(FlowId& flow) noexcept {
    if (left() < 1) return FlowFrameError::truncated;
    const std::uint8_t first = std::to_integer<std::uint8_t>(bytes_[at_]);
    const std::size_t size = std::size_t{1} << (first >> 6);
    if (left() < size) return FlowFrameError::truncated;
    std::uint64_t value = first & 0x3f;
    ++at_;
    for (std::size_t i = 1; i < size; ++i) value = (value << 8) | byte();
    if (varint_size(value) != size) return FlowFrameError::non_minimal_varint;
    if (value == 0) return FlowFrameError::zero_flow_id;
    flow = value;
    return FlowFrameError::none;
  }

 private:
  std::span<const std::byte> bytes_;
  std::size_t at_ = 0;
};

FlowFrameDecode fail(FlowFrameError error) noexcept { return FlowFrameDecode{std::nullopt, error}; }

FlowFrameDecode decode_request(Reader& in, FlowId flow) noexcept {
  if (in.left() < 1) return fail(FlowFrameError::truncated);
  const std::uint8_t family = in.byte();
  if (family != 4 && family != 6) return fail(FlowFrameError::bad_family);
  const std::size_t address_size = family == 4 ? 4 : 16;
  if (in.left() < address_size + 2) return fail(FlowFrameError::truncated);
  const auto address_bytes = in.take(address_size);
  ip::address address;
  if (family == 4) {
    ip::address_v4::bytes_type v4{};
    for (std::size_t i = 0; i < v4.size(); ++i) v4[i] = std::to_integer<unsigned char>(address_bytes[i]);
    address = ip::address_v4(v4);
  } else {
    ip::address_v6::bytes_type v6{};
    for (std::size_t i = 0; i < v6.size(); ++i) v6[i] = std::to_integer<unsigned char>(address_bytes[i]);
    address = ip::address_v6(v6);
  }
  const unsigned high = in.byte();
  const auto port = static_cast<std::uint16_t>((high << 8) | in.byte());
  if (port == 0) return fail(FlowFrameError::zero_port);
  if (in.left() > max_flow_payload) return fail(FlowFrameError::payload_too_large);
  return FlowFrameDecode{RequestFrame{flow, ip::udp::endpoint(address, port), in.rest()}, FlowFrameError::none};
}

}  // namespace

std::string_view name(FlowFrameError error) noexcept {
  switch (error) {
    case FlowFrameError::none: return "none";
    case FlowFrameError::empty: return "empty";
    case FlowFrameError::unknown_type: return "unknown_type";
    case FlowFrameError::truncated: return "truncated";
    case FlowFrameError::non_minimal_varint: return "non_minimal_varint";
    case FlowFrameError::zero_flow_id: return "zero_flow_id";
    case FlowFrameError::bad_family: return "bad_family";
    case FlowFrameError::zero_port: return "zero_port";
    case FlowFrameError::payload_too_large: return "payload_too_large";
    case FlowFrameError::zero_reason: return "zero_reason";
    case FlowFrameError::trailing_bytes: return "trailing_bytes";
  }
  return "unknown";
}

FlowFrameDecode decode_flow_frame(std::span<const std::byte> bytes) noexcept {
  if (bytes.empty()) return fail(FlowFrameError::empty);
  Reader in(bytes);
  const std::uint8_t type = in.byte();
  if (type < 0x01 || type > 0x03) return fail(FlowFrameError::unknown_type);
  FlowId flow = 0;
  if (const FlowFrameError error = in.flow_id(flow); error != FlowFrameError::none) return fail(error);
  switch (static_cast<FlowFrameType>(type)) {
    case FlowFrameType::request: return decode_request(in, flow);
    case FlowFrameType::response:
      if (in.left() > max_flow_payload) return fail(FlowFrameError::payload_too_large);
      return FlowFrameDecode{ResponseFrame{flow, in.rest()}, FlowFrameError::none};
    case FlowFrameType::close: {
      if (in.left() < 1) return fail(FlowFrameError::truncated);
      const std::uint8_t reason = in.byte();
      if (reason == 0) return fail(FlowFrameError::zero_reason);
      if (in.left() != 0) return fail(FlowFrameError::trailing_bytes);
      return FlowFrameDecode{CloseFrame{flow, reason}, FlowFrameError::none};
    }
  }
  return fail(FlowFrameError::unknown_type);
}

bool encode_request(FlowId flow, const ip::udp::endpoint& client, std::span<const std::byte> payload,
                    std::vector<std::byte>& out) {
  if (!valid_flow(flow) || client.port() == 0 || payload.size() > max_flow_payload) return false;
  out.reserve(out.size() + request_overhead(flow, client) + payload.size());
  out.push_back(static_cast<std::byte>(FlowFrameType::request));
  put_varint(flow, out);
  const ip::address address = client.address();
  if (address.is_v4()) {
    out.push_back(std::byte{4});
    for (const unsigned char byte : address.to_v4().to_bytes()) out.push_back(static_cast<std::byte>(byte));
  } else {
    out.push_back(std::byte{6});
    for (const unsigned char byte : address.to_v6().to_bytes()) out.push_back(static_cast<std::byte>(byte));
  }
  out.push_back(static_cast<std::byte>(client.port() >> 8));
  out.push_back(static_cast<std::byte>(client.port() & 0xff));
  out.insert(out.end(), payload.begin(), payload.end());
  return true;
}

bool encode_response(FlowId flow, std::span<const std::byte> payload, std::vector<std::byte>& out) {
  if (!valid_flow(flow) || payload.size() > max_flow_payload) return false;
  out.reserve(out.size() + response_overhead(flow) + payload.size());
  out.push_back(static_cast<std::byte>(FlowFrameType::response));
  put_varint(flow, out);
  out.insert(out.end(), payload.begin(), payload.end());
  return true;
}

bool encode_close(FlowId flow, std::uint8_t reason, std::vector<std::byte>& out) {
  if (!valid_flow(flow) || reason == 0) return false;
  out.push_back(static_cast<std::byte>(FlowFrameType::close));
  put_varint(flow, out);
  out.push_back(static_cast<std::byte>(reason));
  return true;
}

bool encode_flow_frame(const FlowFrame& frame, std::vector<std::byte>& out) {
  struct Encode {
    std::vector<std::byte>& out;
    bool operator()(const RequestFrame& f) const { return encode_request(f.flow, f.client, f.payload, out); }
    bool operator()(const ResponseFrame& f) const { return encode_response(f.flow, f.payload, out); }
    bool operator()(const CloseFrame& f) const { return encode_close(f.flow, f.reason, out); }
  };
  return std::visit(Encode{out}, frame);
}

std::size_t request_overhead(FlowId flow, const ip::udp::endpoint& client) noexcept {
  if (!valid_flow(flow)) return 0;
  return 1 + varint_size(flow) + 1 + (client.address().is_v4() ? 4 : 16) + 2;
}

std::size_t response_overhead(FlowId flow) noexcept {
  if (!valid_flow(flow)) return 0;
  return 1 + varint_size(flow);
}

}  // namespace warren::core::udp

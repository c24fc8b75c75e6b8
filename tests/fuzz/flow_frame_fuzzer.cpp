// libFuzzer target: one UDP tunnel datagram to the flow frame decoder
// (core/udp/flow_frame). The decoder is strict, so a frame it accepts must
// encode back to exactly the input bytes; a refused one gets a named error.
#include "core/udp/flow_frame.hpp"

#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace warren::core::udp;
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  const FlowFrameDecode decoded = decode_flow_frame(input);
  if (decoded.error != FlowFrameError::none) {
    if (decoded.frame || name(decoded.error) == "unknown") std::abort();
    return 0;
  }
  if (!decoded.frame) std::abort();
  std::vector<std::byte> again;
  if (!encode_flow_frame(*decoded.frame, again)) std::abort();
  if (again.size() != size || (size != 0 && std::memcmp(again.data(), data, size) != 0)) std::abort();
  // The overheads agree with the encoder.
  if (const auto* request = std::get_if<RequestFrame>(&*decoded.frame)) {
    if (request_overhead(request->flow, request->client) + request->payload.size() != size) std::abort();
  } else if (const auto* response = std::get_if<ResponseFrame>(&*decoded.frame)) {
    if (response_overhead(response->flow) + response->payload.size() != size) std::abort();
  }
  return 0;
}

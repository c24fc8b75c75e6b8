// libFuzzer target: a data stream's first frame (StreamHeader), whole and
// split into chunks, with the same round-trip check as the control frames.
#include "core/protocol/fuzz_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return warren::core::protocol::fuzz_stream_header_decoder(data, size);
}

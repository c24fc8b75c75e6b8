// libFuzzer target: the control stream's decoders (ControlMessage and
// StreamReply frames), whole and split into chunks; every message that
// decodes must survive a re-encode unchanged (core/protocol/fuzz_entry.cpp).
#include "core/protocol/fuzz_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return warren::core::protocol::fuzz_control_decoders(data, size);
}

// libFuzzer harness: clang -fsanitize=fuzzer. Run with
//   protocol_fuzzer -max_len=4096 corpus_dir/
#include "core/protocol/fuzz_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return warren::core::protocol::fuzz_decoders(data, size);
}

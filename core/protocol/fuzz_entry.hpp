#pragma once
// One fuzzing step over the decoders, shaped for libFuzzer's
// LLVMFuzzerTestOneInput and reused by the seeded fuzz loop in the tests.

#include <cstddef>
#include <cstdint>

namespace warren::core::protocol {

/// Feeds `data` to a control decoder, a stream-header decoder and a stream-reply decoder, in chunk
/// sizes taken from the data itself. Every message that decodes must encode
/// again and decode equal; a violation aborts (a finding). Returns 0.
int fuzz_decoders(const std::uint8_t* data, std::size_t size) noexcept;

/// The control stream's decoders alone: ControlMessage and StreamReply, whole and in chunks.
int fuzz_control_decoders(const std::uint8_t* data, std::size_t size) noexcept;

/// A data stream's first frame alone: StreamHeader, whole and in chunks (the
/// bytes after the header belong to the client and are left unread).
int fuzz_stream_header_decoder(const std::uint8_t* data, std::size_t size) noexcept;

}  // namespace warren::core::protocol

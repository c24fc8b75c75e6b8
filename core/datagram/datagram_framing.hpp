#pragma once
// Datagrams on a byte stream, for a transport without datagrams of its own
// (issue 13: the HTTP/2 fallback): each datagram is a 2-byte big-endian
// length, then that many bytes. A zero length is a valid (empty) datagram,
// as in UDP. Pure: no stream, no socket; the decoder is fed what arrived,
// Asio-parser style (core/protocol/frame_decoder.hpp), and says good / bad /
// need-more and how many bytes it used.

#include <warren/sdk/datagram.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace warren::core::datagram {

/// Bytes of the length prefix.
inline constexpr std::size_t length_prefix_size = 2;
/// The most a 2-byte length can say.
inline constexpr std::size_t max_framed_datagram = 0xffff;

/// Appends `payload`'s frame (length prefix, then the bytes) to `out`.
/// False, appending nothing, if `payload` is longer than `max_datagram`
/// (itself at most max_framed_datagram).
bool encode_datagram(std::span<const std::byte> payload, std::size_t max_datagram, sdk::Datagram& out);

enum class DecodeStatus {
  good,       ///< `datagram` holds the next datagram
  bad,        ///< a length above the maximum: the stream must be closed
  need_more,  ///< every byte given was taken; feed more
};

struct DecodeResult {
  DecodeStatus status = DecodeStatus::need_more;
  std::size_t consumed = 0;  ///< bytes of the input used; the rest belongs to what follows
  sdk::Datagram datagram;    ///< set when status is good
  std::string reason;        ///< set when status is bad
};

/// Decodes datagrams from a stream's bytes, in pieces of any size (a
/// length split across two reads included). Holds at most one partial
/// datagram (max_datagram bytes).
class DatagramDecoder {
 public:
  /// `max_datagram`: a received length above it is malformed (at most
  /// max_framed_datagram).
  explicit DatagramDecoder(std::size_t max_datagram);

  /// Takes bytes up to the end of the next datagram. Loop while the result
  /// is good and bytes remain. After `bad` the decoder stays bad and takes
  /// nothing. Allocates the datagram's bytes; throws only std::bad_alloc.
  DecodeResult parse(std::span<const std::byte> bytes);

  /// True when no partial datagram is held (a clean place for the stream to end).
  bool between_datagrams() const noexcept { return prefix_have_ == 0; }
  bool failed() const noexcept { return failed_; }

 private:
  std::size_t max_datagram_;
  std::uint8_t prefix_[length_prefix_size] = {};
  std::size_t prefix_have_ = 0;
  std::size_t length_ = 0;  ///< of the datagram being read, once the prefix is whole
  sdk::Datagram body_;
  bool failed_ = false;
};

}  // namespace warren::core::datagram

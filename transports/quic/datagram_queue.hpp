#pragma once
// QUIC DATAGRAM frames (RFC 9221) for a QuicConnection: the bounded queues
// that hold them on each side, and how large a payload fits one packet.
// Sans-io, unit-tested (tests/transport_conformance/quic_datagram_queue_test.cpp).

#include <warren/sdk/datagram.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <deque>
#include <span>

namespace warren::quic {

/// What each side offers in its max_datagram_frame_size transport
/// parameter (RFC 9221 §3): 65,535, the largest frame any UDP datagram
/// needs (a UDP payload is at most 65,527 bytes, RFC 8200 §5), so the limit
/// that binds is the packet's size on the path, never this one.
inline constexpr std::uint64_t offered_max_datagram_frame_size = 65535;

/// The send queue: what the application may add between two flushes. A
/// flush sends what the congestion window allows (RFC 9221 §5.4: DATAGRAM
/// frames are congestion controlled, and a sender may drop what it cannot
/// send); past 512 KiB (~40 ms at 100 Mbit/s) a queued datagram is later
/// than a call or a game wants it, so the next one is dropped instead.
/// 512 datagrams bounds the per-datagram overhead of tiny ones.
inline constexpr std::size_t send_queue_datagrams = 512;
inline constexpr std::size_t send_queue_bytes = 512 * 1024;
/// The receive queue, while no receive is pending. A reader takes one
/// datagram per completion, one per turn of the loop, while one turn of
/// the endpoint reads up to 8 x 8 slots of 64 KiB (udp_endpoint.hpp): one
/// loopback packet of 65,000 bytes alone carries ~2,000 small flow frames,
/// so 1,024 datagrams lost most of a burst of new flows (issue 13 trial:
/// 20-60 %). The bound is 2 MiB, each datagram charged its payload and
/// receive_queue_overhead (the deque's vector and its heap block), so tiny
/// datagrams are bounded in memory too: ~10,000 flow frames of 130 B (the
/// trial's burst was 8,000) or 34 of 60 KB. 4 MiB (a whole turn's bytes)
/// lost nothing more in the burst and raised the edge's peak under a flood
/// of 60 KB datagrams from 20 to 27 MB; the count bound only keeps the
/// charge honest for empty ones.
inline constexpr std::size_t receive_queue_overhead = 64;
inline constexpr std::size_t receive_queue_bytes = 2 * 1024 * 1024;
inline constexpr std::size_t receive_queue_datagrams = receive_queue_bytes / receive_queue_overhead;

/// Bytes of a QUIC variable-length integer holding `value` (RFC 9000 §16).
constexpr std::size_t varint_size(std::uint64_t value) {
  return value < (1u << 6) ? 1 : value < (1u << 14) ? 2 : value < (1u << 30) ? 4 : 8;
}

/// The largest payload whose DATAGRAM frame (type, length, payload: RFC
/// 9221 §4) takes at most `frame_room` bytes; 0 if not even an empty one fits.
constexpr std::size_t datagram_payload_in(std::size_t frame_room) {
  std::size_t best = 0;
  // Each length size caps the payload it can say (6, 14, 30, 62 bits).
  for (std::size_t length_bytes : {1, 2, 4, 8}) {
    if (frame_room < 1 + length_bytes) break;
    std::size_t limit = length_bytes == 8 ? std::numeric_limits<std::size_t>::max() : (std::size_t{1} << (8 * length_bytes - 2)) - 1;
    best = std::max(best, std::min(frame_room - 1 - length_bytes, limit));
  }
  return best;
}

/// Bytes a 1-RTT packet spends around its frames, at most: the short
/// header's first byte, a destination connection ID of up to 20 bytes
/// (RFC 9000 §17.3.1), a packet number of up to 4, and the AEAD tag
/// (16 for every TLS 1.3 suite QUIC uses, RFC 9001 §5.3).
inline constexpr std::size_t short_packet_overhead = 1 + 20 + 4 + 16;

/// The largest datagram payload that fits one packet of `udp_payload` bytes
/// and a frame of `peer_max_frame` bytes (the peer's transport parameter).
/// Counted with the largest header, so a datagram of this size always fits
/// a packet of its own: ngtcp2 0.12 would otherwise hold it forever.
constexpr std::size_t max_datagram_payload(std::uint64_t peer_max_frame, std::size_t udp_payload) {
  if (peer_max_frame == 0 || udp_payload <= short_packet_overhead) return 0;
  std::size_t by_peer = datagram_payload_in(static_cast<std::size_t>(std::min<std::uint64_t>(peer_max_frame, 1 << 20)));
  return std::min(by_peer, datagram_payload_in(udp_payload - short_packet_overhead));
}

/// A FIFO of datagrams bounded in count and in bytes: past either bound a
/// push is refused and the caller counts a drop (datagram semantics: drop,
/// never buffer without bound). Each datagram is charged its payload plus
/// `overhead` bytes against the bytes bound.
class DatagramQueue {
 public:
  DatagramQueue(std::size_t max_datagrams, std::size_t max_bytes, std::size_t overhead = 0)
      : max_datagrams_(max_datagrams), max_bytes_(max_bytes), overhead_(overhead) {}

  /// False, taking nothing, if `payload` would pass a bound.
  bool push(std::span<const std::byte> payload) {
    if (datagrams_.size() >= max_datagrams_ || bytes_ + payload.size() + overhead_ > max_bytes_) return false;
    datagrams_.emplace_back(payload.begin(), payload.end());
    bytes_ += payload.size() + overhead_;
    return true;
  }
  bool empty() const { return datagrams_.empty(); }
  std::size_t size() const { return datagrams_.size(); }
  /// Bytes charged: payloads and overheads.
  std::size_t bytes() const { return bytes_; }
  const sdk::Datagram& front() const { return datagrams_.front(); }
  sdk::Datagram pop() {
    sdk::Datagram front = std::move(datagrams_.front());
    datagrams_.pop_front();
    bytes_ -= front.size() + overhead_;
    return front;
  }
  void clear() {
    datagrams_.clear();
    bytes_ = 0;
  }

 private:
  std::size_t max_datagrams_;
  std::size_t max_bytes_;
  std::size_t overhead_;
  std::deque<sdk::Datagram> datagrams_;
  std::size_t bytes_ = 0;
};

}  // namespace warren::quic

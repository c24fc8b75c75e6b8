// QuicConnection's datagrams (RFC 9221): a bounded queue each way, sent by
// the flush in the turn SendScheduler gives them (after urgent streams,
// packet about with bulk ones), never retransmitted, congestion controlled
// by ngtcp2. Every drop counts in ConnectionStats::datagrams_dropped.

#include "completion.hpp"
#include "quic_connection.hpp"

#include <algorithm>

namespace warren::quic {

std::size_t QuicConnection::max_datagram_size() const {
  // The peer's transport parameters are authenticated only once the handshake is done.
  if (failed_ || !handshake_completed_) return 0;
  const ngtcp2_transport_params* remote = ngtcp2_conn_get_remote_transport_params(conn_);
  if (!remote || remote->max_datagram_frame_size == 0) return 0;
  // The packet this path carries now: ngtcp2's own limit (PMTUD's result
  // off loopback, the loopback MTU on it), the room a flush gives a packet,
  // and the peer's max_udp_payload_size.
  std::size_t udp_payload = std::min(packet_room(), ngtcp2_conn_get_path_max_tx_udp_payload_size(conn_));
  if (remote->max_udp_payload_size)
    udp_payload = static_cast<std::size_t>(std::min<std::uint64_t>(udp_payload, remote->max_udp_payload_size));
  return max_datagram_payload(remote->max_datagram_frame_size, udp_payload);
}

bool QuicConnection::send_datagram(std::span<const std::byte> payload) {
  if (payload.size() > max_datagram_size() || !datagrams_out_.push(payload)) {
    ++datagrams_dropped_;
    return false;
  }
  schedule_flush();
  return true;
}

void QuicConnection::receive_datagram(sdk::DatagramHandler handler) {
  if (!datagrams_in_.empty()) {
    complete_later(executor_, std::move(handler), sdk::error_code(), datagrams_in_.pop());
  } else if (failed_) {
    complete_later(executor_, std::move(handler), reason_, sdk::Datagram());
  } else if (datagram_handler_) {
    complete_later(executor_, std::move(handler), boost::asio::error::in_progress, sdk::Datagram());
  } else {
    store_handler(datagram_handler_, std::move(handler));
  }
}

int QuicConnection::on_recv_datagram(const std::uint8_t* data, std::size_t len) {
  ++datagrams_received_;
  auto bytes = std::as_bytes(std::span(data, len));
  if (datagram_handler_) {
    // Posted: the reader runs after ngtcp2 returned, as every completion does.
    complete_if_pending(executor_, datagram_handler_, sdk::error_code(), sdk::Datagram(bytes.begin(), bytes.end()));
  } else if (!datagrams_in_.push(bytes)) {
    ++datagrams_dropped_;
  }
  return 0;
}

std::optional<ngtcp2_ssize> QuicConnection::write_datagram(ngtcp2_path* path, ngtcp2_pkt_info* info,
                                                          std::uint8_t* packet, std::size_t room, ngtcp2_tstamp now,
                                                          bool& accepted) {
  accepted = false;
  const sdk::Datagram& next = datagrams_out_.front();
  if (next.size() > max_datagram_size()) {
    // Queued when packets were larger than the path's now: it would never fit.
    datagrams_out_.pop();
    ++datagrams_dropped_;
    return std::nullopt;
  }
  ngtcp2_vec vec{const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(next.data())), next.size()};
  int taken = 0;
  // An empty datagram (valid, as in UDP) goes as no vector at all: ngtcp2
  // 0.12 asserts on a zero-length one.
  ngtcp2_ssize n = ngtcp2_conn_writev_datagram(conn_, path, info, packet, room, &taken,
                                               NGTCP2_WRITE_DATAGRAM_FLAG_MORE, 0, &vec, next.empty() ? 0 : 1, now);
  if (n == NGTCP2_ERR_INVALID_ARGUMENT) {
    // Larger than the peer's max_datagram_frame_size: max_datagram_size() keeps this out.
    datagrams_out_.pop();
    ++datagrams_dropped_;
    return std::nullopt;
  }
  if (taken) {
    // ngtcp2 copied it into the packet: DATAGRAM frames are never retransmitted.
    datagrams_out_.pop();
    ++datagrams_sent_;
    accepted = true;
  }
  return n;
}

void QuicConnection::fail_datagrams(sdk::error_code reason) {
  datagrams_dropped_ += datagrams_out_.size();  // queued, never sent: the connection ended
  datagrams_out_.clear();
  complete_if_pending(executor_, datagram_handler_, reason, sdk::Datagram());
}

}  // namespace warren::quic

// QuicConnection's send path: a flush writes the packets ngtcp2 has ready
// (stream data from the send queue, datagrams in their turn, ACKs, control
// frames) in GSO batches, handles the timers already due, and re-arms the
// one timer.

#include "quic_connection.hpp"

#include "clock.hpp"
#include "completion.hpp"

#include <algorithm>
#include <cerrno>

namespace warren::quic {
namespace {

// Packets per flush before yielding to the loop (and to ngtcp2's pacer).
constexpr std::size_t max_burst = 64;
// Rounds of "write, handle the timers that are due" per flush.
constexpr int max_expiry_rounds = 4;
// ngtcp2 0.12 lets a paced packet go this much before its time.
constexpr ngtcp2_tstamp pacing_overhead = 1000000;  // 1 ms, NGTCP2_PKT_PACING_OVERHEAD

}  // namespace

std::size_t QuicConnection::packet_room() const {
  std::size_t room = ngtcp2_conn_get_max_tx_udp_payload_size(conn_);
  // ngtcp2 pads Initial packets to the room given: until the handshake is
  // done, the size every path carries (1200, as PMTUD starts from), however
  // large the loopback MTU lets later packets be.
  return handshake_completed_ ? room : std::min<std::size_t>(room, NGTCP2_MAX_UDP_PAYLOAD_SIZE);
}

void QuicConnection::flush() {
  // Timers already due when the packets are out (typically the pacer's
  // next-send time, a few microseconds after a small send) are handled
  // here and the packets they release written at once, rather than through
  // a zero-length timer and another pass of the event loop.
  for (int round = 0; round < max_expiry_rounds; ++round) {
    if (failed_ || !write_packets()) return;
    ngtcp2_tstamp expiry = ngtcp2_conn_get_expiry(conn_);
    ngtcp2_tstamp now = now_ns();
    // Pacing lets packets go up to this much early, so a pacer deadline
    // this close is as good as due (ngtcp2's NGTCP2_PKT_PACING_OVERHEAD).
    // Any other timer not yet due is left untouched by handle_expiry.
    if (expiry > now + pacing_overhead) break;
    if (!handle_expiry(now)) return;
    if (ngtcp2_conn_get_expiry(conn_) == expiry && expiry > now) break;  // a real timer, not yet due
  }
  arm_timer();
}

bool QuicConnection::write_packets() {
  ngtcp2_tstamp now = now_ns();
  std::size_t max_packet = packet_room();
  std::size_t burst = max_burst;
  if (handshake_completed_)
    burst = std::clamp<std::size_t>(ngtcp2_conn_get_send_quantum(conn_) / max_packet, 1, max_burst);
  PacketBatch batch(*endpoint_, remote_, max_packet);
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info info{};
  std::size_t packets = 0;
  bool carries_datagrams = false;  // the packet being built holds a datagram
  auto packet_written = [&](ngtcp2_ssize n) {
    batch.commit(static_cast<std::size_t>(n));
    ++packets;
    send_queue_.packet_done(carries_datagrams);
    carries_datagrams = false;
  };
  while (packets < burst) {
    StreamState* stream = send_queue_.next();  // control and short writes first, then bulk
    if (!datagrams_out_.empty() && send_queue_.datagram_first(stream)) {
      bool accepted = false;
      auto written = write_datagram(&ps.path, &info, batch.slot(), max_packet, now, accepted);
      if (!written) continue;  // dropped one that cannot fit; offer the next
      carries_datagrams = carries_datagrams || accepted;
      ngtcp2_ssize n = *written;
      if (n == NGTCP2_ERR_WRITE_MORE) continue;  // room left in this packet
      if (n == 0) break;                          // congestion window or pacing: later
      if (n > 0) {
        packet_written(n);  // a datagram that did not fit the rest of it goes in the next
        continue;
      }
      fail_write(batch, n);
      return false;
    }
    ngtcp2_vec vecs[8];
    std::size_t nvecs = 0, offered = 0;
    std::uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
    std::int64_t id = -1;
    bool fin = false;
    if (stream) {
      id = stream->id;
      nvecs = stream->outgoing.unsent(vecs, std::size(vecs), offered);
      fin = stream->fin_requested;
      if (fin) flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
    }
    ngtcp2_ssize taken = -1;
    ngtcp2_ssize n = ngtcp2_conn_writev_stream(conn_, &ps.path, &info, batch.slot(), max_packet, &taken, flags, id,
                                               vecs, nvecs, now);
    if (n == NGTCP2_ERR_WRITE_MORE) {
      account_sent(*stream, taken, offered, fin);
      continue;
    }
    if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED) {
      stream->blocked = true;  // until the peer's MAX_STREAM_DATA
      continue;
    }
    if (n == NGTCP2_ERR_STREAM_SHUT_WR || n == NGTCP2_ERR_STREAM_NOT_FOUND) {
      // The send side was reset (our abort, or ngtcp2 answering the peer's
      // STOP_SENDING): to the writer that is the same as STOP_SENDING.
      stream->closed = stream->closed || n == NGTCP2_ERR_STREAM_NOT_FOUND;
      stream->stop_sending_received = true;
      complete_if_pending(executor_, stream->write_handler, sdk::make_error_code(sdk::errc::stream_reset),
                          std::size_t{0});
      continue;
    }
    if (n < 0) {
      fail_write(batch, n);
      return false;
    }
    if (n == 0) break;
    if (stream && taken >= 0) account_sent(*stream, taken, offered, fin);
    packet_written(n);
  }
  batch.flush();
  bytes_sent_ += batch.bytes();
  // Only a dial fails at once on a refused send: an established connection
  // rides out a firewall reload; a rule that stays ends it by silence.
  if (int error = batch.send_error(); (error == EPERM || error == EACCES) && !server_ && !handshake_completed_) {
    fail_blocked(error);
    return false;
  }
  if (batch.bytes() > 0) reachability_.on_sent(now);
  // Pacing only once the handshake is over: with no RTT sample yet it
  // would hold back the handshake itself.
  if (handshake_completed_ && packets) ngtcp2_conn_update_pkt_tx_time(conn_, now);
  return true;
}

void QuicConnection::fail_write(PacketBatch& batch, ngtcp2_ssize error) {
  batch.flush();
  ngtcp2_connection_close_error close_error;
  ngtcp2_connection_close_error_set_transport_error_liberr(&close_error, static_cast<int>(error), nullptr, 0);
  logger_.debug(std::string("QUIC write to ") + remote_address() +
                " failed: " + ngtcp2_strerror(static_cast<int>(error)));
  fail(sdk::make_error_code(sdk::errc::protocol_error), &close_error);
}

void QuicConnection::account_sent(StreamState& stream, ngtcp2_ssize taken, std::size_t offered, bool fin_offered) {
  if (taken > 0) stream.outgoing.mark_sent(static_cast<std::size_t>(taken));
  if (fin_offered && taken >= 0 && static_cast<std::size_t>(taken) == offered) stream.fin_sent = true;
  if (stream.write_handler && stream.outgoing.sent_offset() >= stream.write_end)
    complete_if_pending(executor_, stream.write_handler, sdk::error_code(), stream.write_size);
  // Round robin within its class: a stream that still has data goes behind the others.
  send_queue_.served(stream);
}

}  // namespace warren::quic

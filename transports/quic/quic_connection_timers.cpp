// QuicConnection's clock side: the one asio timer that follows ngtcp2's
// expiry, the posted flush that batches writes made in one loop pass, and
// the verdicts that end a dial for lack of an answer (ICMP, silence, EPERM).

#include "quic_connection.hpp"

#include "clock.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

namespace warren::quic {

void QuicConnection::schedule_flush() {
  if (flush_scheduled_ || failed_) return;
  flush_scheduled_ = true;
  boost::asio::post(executor_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) {
      self->flush_scheduled_ = false;
      self->flush();
    }
  });
}

void QuicConnection::on_unreachable(ngtcp2_tstamp now) {
  if (failed_) return;
  reachability_.on_report();
  if (check_reachability(now)) arm_timer();
}

bool QuicConnection::check_reachability(ngtcp2_tstamp now) {
  ngtcp2_duration pto = ngtcp2_conn_get_pto(conn_);
  if (!reachability_.unreachable(now, pto, handshake_completed_)) return true;
  if (handshake_completed_)
    logger_.debug("QUIC peer " + remote_address() + " is unreachable: " + std::to_string(reachability_.reports()) +
                  " ICMP errors and no answer for " + std::to_string(PeerReachability::quiet(pto) / 1'000'000) +
                  " ms");
  else
    logger_.debug("QUIC handshake with " + remote_address() + ": ICMP says nothing listens there");
  // Before the handshake ends this is a dial that found nobody listening.
  fail(sdk::make_error_code(handshake_completed_ ? sdk::errc::peer_unreachable : sdk::errc::dial_failed), nullptr);
  return false;
}

void QuicConnection::arm_timer() {
  if (failed_) return;
  ngtcp2_tstamp expiry = ngtcp2_conn_get_expiry(conn_);
  if (auto due = reachability_.deadline(ngtcp2_conn_get_pto(conn_))) expiry = std::min(expiry, *due);
  if (expiry == UINT64_MAX) {
    // Nothing to wait for. A timer still armed fires once and finds nothing
    // due; cheaper than cancelling it here and arming it again later.
    return;
  }
  // A timer armed no later than the new deadline is fine as it is: when it
  // fires early, on_timer handles what is due and arms the rest.
  if (timer_armed_ && armed_expiry_ <= expiry) return;
  armed_expiry_ = expiry;
  timer_armed_ = true;
  ngtcp2_tstamp now = now_ns();
  timer_.expires_after(std::chrono::nanoseconds(expiry > now ? expiry - now : 0));
  timer_.async_wait([weak = weak_from_this()](const sdk::error_code& ec) {
    if (ec) return;  // cancelled: whoever cancelled has armed it again or the connection failed
    if (auto self = weak.lock()) self->on_timer();
  });
}

void QuicConnection::on_timer() {
  timer_armed_ = false;
  if (failed_) return;
  ngtcp2_tstamp now = now_ns();
  if (!check_reachability(now) || !handle_expiry(now)) return;
  flush();
}

void QuicConnection::fail_blocked(int error) {
  // Said here, where the cause is known; the host says what it does about it
  // (a fallback policy moves the leg to the next transport).
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(limits_.handshake_timeout);
  std::string cause = error ? std::string("sendmsg: ") + std::strerror(error)
                            : "no reply to any Initial in " + std::to_string(waited.count()) + " ms";
  logger_.info("UDP to " + remote_address() + " looks blocked (" + cause + ")");
  fail(sdk::make_error_code(sdk::errc::quic_broken), nullptr);
}

bool QuicConnection::handle_expiry(ngtcp2_tstamp now) {
  int rv = ngtcp2_conn_handle_expiry(conn_, now);
  if (rv == NGTCP2_ERR_IDLE_CLOSE || rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
    // Silence before the handshake ends is a handshake that never finished;
    // a dial that heard nothing at all, not even a Retry or a CONNECTION_CLOSE,
    // suggests UDP never gets through (a peer that answered and then stalled
    // is a plain timeout). ICMP "nothing listens" ends a dial sooner, above.
    bool in_handshake = !handshake_completed_;
    if (in_handshake && !server_ && !heard_from_peer()) {
      fail_blocked(0);
      return false;
    }
    fail(sdk::make_error_code(in_handshake ? sdk::errc::handshake_timeout : sdk::errc::idle_timeout), nullptr);
    return false;
  }
  if (rv != 0) {
    ngtcp2_connection_close_error close_error;
    ngtcp2_connection_close_error_set_transport_error_liberr(&close_error, rv, nullptr, 0);
    fail(sdk::make_error_code(sdk::errc::protocol_error), &close_error);
    return false;
  }
  return true;
}

}  // namespace warren::quic

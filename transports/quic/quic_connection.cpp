#include "quic_connection.hpp"

#include "clock.hpp"
#include "closing_connection.hpp"
#include "completion.hpp"
#include "live_connections.hpp"
#include "loopback_mtu.hpp"
#include "quic_callbacks.hpp"

#include <warren/sdk/endpoint.hpp>
#include <ngtcp2/ngtcp2_crypto.h>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <utility>
#include <cerrno>

namespace warren::quic {
namespace {

// Largest packet to a loopback peer once the handshake is done: the most
// one datagram buffer of ours holds. bench/WHERE_CYCLES_GO.md section 7
// has the figures behind the choice.
constexpr std::size_t loopback_packet_size = UdpEndpoint::tx_capacity;
// How long a closed connection's IDs keep answering with CONNECTION_CLOSE,
// if three PTOs are shorter: a peer idle for a keepalive interval still
// hears the close.
constexpr std::chrono::nanoseconds min_closing_period = std::chrono::seconds(1);
// The client's first DCID: random, longer than the minimum of 8 bytes.
constexpr std::size_t initial_dcid_length = 18;

ngtcp2_duration to_ngtcp2(sdk::Duration d) {
  return d.count() > 0 ? static_cast<ngtcp2_duration>(d.count()) : UINT64_MAX;
}

bool is_crypto_error(const ngtcp2_connection_close_error& e) {
  return e.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT && (e.error_code & 0xff00) == 0x100;
}

}  // namespace

QuicConnection::QuicConnection(std::shared_ptr<UdpEndpoint> endpoint, const udp::endpoint& remote,
                               const ConnectionLimits& limits, sdk::Logger& logger, bool server)
    : executor_(endpoint->get_executor()),
      endpoint_(std::move(endpoint)),
      remote_(remote),
      limits_(limits),
      logger_(logger),
      server_(server),
      timer_(executor_),
      datagrams_out_(send_queue_datagrams, send_queue_bytes),
      datagrams_in_(receive_queue_datagrams, receive_queue_bytes, receive_queue_overhead) {
  LiveConnections::of(executor_).add(this);
}

QuicConnection::~QuicConnection() {
  if (!failed_ && conn_) {
    ngtcp2_connection_close_error close_error;
    ngtcp2_connection_close_error_default(&close_error);
    fail(boost::asio::error::operation_aborted, &close_error);
  }
  if (conn_) ngtcp2_conn_del(conn_);
  tls_.reset();  // after the conn: ngtcp2 may reach the session until it is gone
  LiveConnections::of(executor_).remove(this);
}

void QuicConnection::drop_handlers() {
  // Moved out first, destroyed at the end: destroying one may release
  // streams of this connection, which call back into it.
  std::vector<sdk::ReadHandler> reads;
  std::vector<sdk::WriteHandler> writes;
  for (auto& [id, stream] : streams_) {
    if (stream->read_handler) reads.push_back(std::exchange(stream->read_handler, nullptr));
    if (stream->write_handler) writes.push_back(std::exchange(stream->write_handler, nullptr));
  }
  auto accept = std::exchange(accept_handler_, nullptr);
  auto opens = std::exchange(open_handlers_, {});
  auto datagram = std::exchange(datagram_handler_, nullptr);
  auto done = std::exchange(handshake_done_, nullptr);
  auto owner = std::exchange(handshake_owner_, nullptr);
}

QuicConnection::Ptr QuicConnection::dial(std::shared_ptr<UdpEndpoint> endpoint, const udp::endpoint& remote,
                                         const PeerCheck& check, const ConnectionLimits& limits, sdk::Logger& logger,
                                         std::string& why) {
  Ptr c(new QuicConnection(std::move(endpoint), remote, limits, logger, false));
  ngtcp2_cid dcid, scid;
  if (!random_cid(dcid, initial_dcid_length) || !random_cid(scid, cid_length)) {
    why = "no random bytes for connection IDs";
    return nullptr;
  }
  c->tls_ = TlsSession::client(check, conn_from_ref, c.get(), why);
  if (!c->tls_ || !c->create_native(dcid, scid, nullptr, why)) return nullptr;
  if (limits.keepalive.count() > 0)
    ngtcp2_conn_set_keep_alive_timeout(c->conn_, static_cast<ngtcp2_duration>(limits.keepalive.count()));
  return c;
}

QuicConnection::Ptr QuicConnection::accept(std::shared_ptr<UdpEndpoint> endpoint, const udp::endpoint& remote,
                                           const AcceptedInitial& initial,
                                           std::shared_ptr<ServerCredentials> credentials, StatelessReset::Ptr reset,
                                           const ConnectionLimits& limits, sdk::Logger& logger, std::string& why) {
  Ptr c(new QuicConnection(std::move(endpoint), remote, limits, logger, true));
  c->reset_secret_ = std::move(reset);
  c->original_dcid_ = initial.header.dcid;  // routed until the handshake ends
  c->address_validated_ = initial.original_dcid.has_value();
  ngtcp2_cid scid;
  if (!random_cid(scid, cid_length)) {
    why = "no random bytes for connection IDs";
    return nullptr;
  }
  c->tls_ = TlsSession::server(std::move(credentials), conn_from_ref, c.get(), why);
  if (!c->tls_ || !c->create_native(initial.header.scid, scid, &initial, why)) return nullptr;
  return c;
}

bool QuicConnection::create_native(const ngtcp2_cid& dcid, const ngtcp2_cid& scid, const AcceptedInitial* initial,
                                   std::string& why) {
  ngtcp2_path path{endpoint_->local_addr(), {remote_.data(), static_cast<ngtcp2_socklen>(remote_.size())}, nullptr};
  ngtcp2_settings settings;
  ngtcp2_settings_default(&settings);
  settings.initial_ts = now_ns();
  settings.handshake_timeout = to_ngtcp2(limits_.handshake_timeout);
  settings.max_tx_udp_payload_size = NGTCP2_MAX_PMTUD_UDP_PAYLOAD_SIZE;
  if (auto payload = loopback_max_udp_payload(remote_, loopback_packet_size)) {
    // The path's MTU is known (loopback: 65536): packets that large once the
    // handshake is done (packet_room), and no discovery, which in ngtcp2
    // 0.12 would stop at 1452 bytes: far fewer packets per byte, so fewer
    // encryptions, ACKs and loop passes. Safe for the control stream's
    // heartbeat only because SendScheduler sends it before bulk data.
    settings.max_tx_udp_payload_size = payload;
    settings.no_tx_udp_payload_size_shaping = 1;
    settings.no_pmtud = 1;
  }
  // A stream starts with a small window that doubles, up to stream_window,
  // while its reader keeps up: a stream nobody reads holds little. The
  // doubling is ours (StreamWindow), not ngtcp2's: its own tuning breaks
  // flow control under loss in 0.12 (see stream_window.hpp). The connection
  // window stays fixed; it only bounds bytes in flight and on streams not yet
  // accepted (see StreamState).
  settings.max_window = 0;
  settings.max_stream_window = 0;

  ngtcp2_transport_params params;
  ngtcp2_transport_params_default(&params);
  params.initial_max_stream_data_bidi_local = limits_.settings.initial_stream_window;
  params.initial_max_stream_data_bidi_remote = limits_.settings.initial_stream_window;
  params.initial_max_stream_data_uni = 0;
  params.initial_max_data = limits_.settings.connection_window;
  params.initial_max_streams_bidi = limits_.settings.max_streams;
  params.initial_max_streams_uni = 0;
  params.max_idle_timeout = limits_.idle_timeout.count() > 0 ? to_ngtcp2(limits_.idle_timeout) : 0;
  // Both sides offer DATAGRAM frames (RFC 9221): UDP tunnels ride them.
  params.max_datagram_frame_size = offered_max_datagram_frame_size;

  int rv;
  if (initial) {
    const ngtcp2_pkt_hd& hd = initial->header;
    params.original_dcid = hd.dcid;
    // The token for our first connection ID (RFC 9000 §18.2); later IDs
    // get theirs in on_new_connection_id.
    if (reset_secret_) {
      if (!reset_secret_->token(scid, params.stateless_reset_token)) {
        why = "cannot derive a stateless reset token";
        return false;
      }
      params.stateless_reset_token_present = 1;
    }
    if (initial->original_dcid) {
      // After our Retry (RFC 9000 §7.3): the client authenticates both IDs.
      params.original_dcid = *initial->original_dcid;
      params.retry_scid = hd.dcid;
      params.retry_scid_present = 1;
      settings.token = hd.token;  // copied by ngtcp2; marks the address validated
    }
    rv = ngtcp2_conn_server_new(&conn_, &dcid, &scid, &path, hd.version, &server_callbacks(), &settings, &params,
                                nullptr, this);
  } else {
    rv = ngtcp2_conn_client_new(&conn_, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &client_callbacks(), &settings,
                                &params, nullptr, this);
  }
  if (rv != 0) {
    conn_ = nullptr;
    why = std::string("cannot create the QUIC connection: ") + ngtcp2_strerror(rv);
    return false;
  }
  ngtcp2_conn_set_tls_native_handle(conn_, tls_->native());
  return true;
}

void QuicConnection::start(HandshakeDone done) {
  handshake_done_ = std::move(done);
  handshake_owner_ = shared_from_this();
  std::vector<ngtcp2_cid> scids(ngtcp2_conn_get_num_scid(conn_));
  ngtcp2_conn_get_scid(conn_, scids.data());
  for (const auto& cid : scids) endpoint_->add_route(cid, weak_from_this());
  if (server_) endpoint_->add_route(original_dcid_, weak_from_this());
  endpoint_->add_peer(remote_, weak_from_this());
  if (!server_) flush();  // the client speaks first
}

void QuicConnection::on_datagram(const udp::endpoint& from, const std::uint8_t* data, std::size_t len,
                                 ngtcp2_tstamp now) {
  if (failed_) return;
  bytes_received_ += len;
  reachability_.on_received();
  udp::endpoint sender = from;
  ngtcp2_path path{endpoint_->local_addr(), {sender.data(), static_cast<ngtcp2_socklen>(sender.size())}, nullptr};
  ngtcp2_pkt_info info{};
  if (int rv = ngtcp2_conn_read_pkt(conn_, &path, &info, data, len, now); rv != 0) handle_read_error(rv);
}

void QuicConnection::log_handshake_failure(const std::string& line) {
  if (server_)
    logger_.warn(line);
  else
    logger_.debug(line);
}

void QuicConnection::handle_read_error(int rv) {
  ngtcp2_connection_close_error close_error;
  ngtcp2_connection_close_error_default(&close_error);
  switch (rv) {
    case NGTCP2_ERR_DISCARD_PKT:
      return;  // a packet that does not fit this connection; the connection is fine
    case NGTCP2_ERR_DRAINING: {
      if (reset_by_peer_) {
        // Said at info: it explains a leg lost in one round trip.
        logger_.info("QUIC peer " + remote_address() +
                     " sent a stateless reset: it no longer knows this connection (restarted)");
        fail(sdk::make_error_code(sdk::errc::stateless_reset), nullptr);
        return;
      }
      ngtcp2_connection_close_error theirs;
      ngtcp2_conn_get_connection_close_error(conn_, &theirs);
      bool tls = !handshake_completed_ && is_crypto_error(theirs);
      // A dialing host says the failed dial in its own line; an edge hears it only here.
      if (tls) log_handshake_failure("peer " + remote_address() + " refused the TLS handshake");
      fail(sdk::make_error_code(tls ? sdk::errc::tls_failed : sdk::errc::peer_closed), nullptr);
      return;
    }
    case NGTCP2_ERR_DROP_CONN:
      fail(sdk::make_error_code(sdk::errc::protocol_error), nullptr);
      return;
    case NGTCP2_ERR_CRYPTO: {
      ngtcp2_connection_close_error_set_transport_error_tls_alert(&close_error, ngtcp2_conn_get_tls_alert(conn_),
                                                                  nullptr, 0);
      if (tls_->certificate_refused()) {
        logger_.error(tls_->refusal() + " (edge " + remote_address() + ")");
        fail(sdk::make_error_code(sdk::errc::certificate_mismatch), &close_error);
      } else {
        log_handshake_failure("TLS handshake with " + remote_address() + " failed");
        fail(sdk::make_error_code(sdk::errc::tls_failed), &close_error);
      }
      return;
    }
    default: {
      ngtcp2_connection_close_error_set_transport_error_liberr(&close_error, rv, nullptr, 0);
      sdk::error_code reason = callback_failure_      ? callback_failure_
                               : handshake_completed_ ? sdk::make_error_code(sdk::errc::protocol_error)
                                                      : sdk::make_error_code(sdk::errc::tls_failed);
      logger_.debug(std::string("QUIC connection with ") + remote_address() + " failed: " + ngtcp2_strerror(rv));
      fail(reason, &close_error);
    }
  }
}

void QuicConnection::close(sdk::error_code reason) {
  if (failed_) return;
  ngtcp2_connection_close_error close_error;
  // Tell the peer which warren error ended it, where there is one.
  std::uint64_t code = reason.category() == sdk::category() ? static_cast<std::uint64_t>(reason.value()) : 0;
  ngtcp2_connection_close_error_set_application_error(&close_error, code, nullptr, 0);
  fail(boost::asio::error::operation_aborted, &close_error);
}

void QuicConnection::fail(sdk::error_code reason, const ngtcp2_connection_close_error* close_error) {
  if (failed_) return;
  std::vector<std::uint8_t> close_packet;
  if (close_error) close_packet = send_connection_close(*close_error);
  failed_ = true;
  reason_ = reason;
  timer_.cancel();
  std::vector<ngtcp2_cid> cids(ngtcp2_conn_get_num_scid(conn_));
  ngtcp2_conn_get_scid(conn_, cids.data());
  if (server_) cids.push_back(original_dcid_);
  for (const auto& cid : cids) endpoint_->remove_route(cid, this);
  endpoint_->remove_peer(remote_, this);
  for (const auto& token : reset_tokens_) endpoint_->remove_reset_token(token.data(), this);
  reset_tokens_.clear();
  if (!close_packet.empty()) {
    auto period = std::max<std::chrono::nanoseconds>(std::chrono::nanoseconds(3 * ngtcp2_conn_get_pto(conn_)),
                                                     min_closing_period);
    // Before the handshake completes (and without a Retry token) the
    // address is unproven: the repeats share the 3x limit with what was sent.
    std::optional<std::uint64_t> budget;
    if (server_ && !handshake_completed_ && !address_validated_)
      budget = 3 * bytes_received_ > bytes_sent_ ? 3 * bytes_received_ - bytes_sent_ : 0;
    ClosingConnection::start(endpoint_, std::move(cids), remote_, close_packet.data(), close_packet.size(), period,
                             budget);
  }
  fail_streams(reason);
  fail_datagrams(reason);
  if (handshake_done_) post_handshake_done();
}

std::vector<std::uint8_t> QuicConnection::send_connection_close(const ngtcp2_connection_close_error& close_error) {
  if (ngtcp2_conn_is_in_closing_period(conn_) || ngtcp2_conn_is_in_draining_period(conn_)) return {};
  std::size_t max_packet = packet_room();
  PacketBatch batch(*endpoint_, remote_, max_packet);
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info info{};
  std::uint8_t* slot = batch.slot();
  ngtcp2_ssize n = ngtcp2_conn_write_connection_close(conn_, &ps.path, &info, slot, max_packet, &close_error, now_ns());
  if (n <= 0) return {};
  std::vector<std::uint8_t> packet(slot, slot + n);
  batch.commit(static_cast<std::size_t>(n));
  bytes_sent_ += static_cast<std::uint64_t>(n);
  return packet;
}

void QuicConnection::post_handshake_done() {
  // The self-reference moves into the posted handler, not a weak pointer: a
  // loop that never runs it (stopped at exit) destroys it with the
  // io_context, and the connection (with its UdpEndpoint) with it. A
  // connection left owning itself would outlive everything (LeakSanitizer).
  if (!handshake_owner_) return;  // already posted: notify_handshake tells the outcome once
  boost::asio::post(executor_, [self = std::move(handshake_owner_)] { self->notify_handshake(); });
}

void QuicConnection::notify_handshake() {
  if (!handshake_done_) return;
  auto done = std::move(handshake_done_);
  handshake_done_ = nullptr;
  handshake_owner_.reset();  // the posted handler holds us until `done` hands us to our owner
  done(failed_ ? reason_ : sdk::error_code());
}

std::string QuicConnection::remote_address() const {
  return sdk::format_host_port(remote_.address().to_string(), remote_.port());
}

HandshakeTraffic QuicConnection::handshake_traffic() const {
  return traffic_at_handshake_ ? *traffic_at_handshake_ : HandshakeTraffic{bytes_sent_, bytes_received_};
}

sdk::ConnectionStats QuicConnection::stats() const {
  ngtcp2_conn_stat stat{};
  ngtcp2_conn_get_conn_stat(conn_, &stat);
  sdk::ConnectionStats stats{sdk::Duration(stat.smoothed_rtt), bytes_sent_, bytes_received_};
  stats.datagrams_sent = datagrams_sent_;
  stats.datagrams_received = datagrams_received_;
  stats.datagrams_dropped = datagrams_dropped_;
  return stats;
}

}  // namespace warren::quic
